"""Offline, faithful imitations of Groq, Gemini, OpenRouter, Together and OpenAI.

One ASGI app serves every provider under its own path prefix on one port, so changing only a base
URL moves a real client (the ``openai`` SDK, httpx, llmswitch itself) from the real provider to
the simulator. Wire facts follow ``shared/reference/providers.md``.

Run it: ``llmswitch simulate [--port N] [--config FILE]`` (``runner.serve_forever``), or in tests
``with llmswitch.testing.simulator() as sim: ...`` (a background thread on a free loopback port,
on a ``FakeClock``).

Keys
    Every non-empty key is valid except one containing ``invalid`` or revoked via
    ``revoke_key``. Stats name a key by its last 4 characters; no full key is stored or printed.

Tokens (deterministic, so tests can predict usage)
    ``prompt_tokens = 3 + sum(ceil(len(text) / 4) + 3 for each message)``, ``text`` being the
    content string or the concatenated text parts (Gemini native: ``systemInstruction`` counts as
    one message and each of ``contents`` as one). The reply is ``reply_tokens`` words (default 16,
    configurable per provider and model), one token each, capped at ``max_tokens`` /
    ``max_completion_tokens`` / ``maxOutputTokens`` (then finish ``length`` / ``MAX_TOKENS``):
    ``"Simulated reply from <provider>/<model> to: <first six words of the last user message>
    ..."`` padded with filler. Streams send ``chunk_tokens`` (default 4) words per chunk.
    After an assistant prefill (the last message is ``assistant``, Gemini native ``model``) the
    reply continues it: that answer minus as many leading words as the prefill has, so prefill
    + " " + reply is the usual answer at the usual length (then capped as above).
    Both prompt and completion tokens count against the token windows.

Answers (``answers.py``; dialects in ``chat_shape.py``, ``gemini_shape.py``)
    Function tools answer with one deterministic tool call (the named tool, else one named in
    the last user message, else the first; text once the conversation ends in a tool result
    under ``auto``), arguments an instance of the tool's schema; ``json_object`` answers
    ``{"reply": ...}``, ``json_schema`` (Gemini: ``responseSchema`` / ``responseJsonSchema``) an
    instance of the schema; ``stop`` / ``stopSequences`` cut the text; ``n`` / ``candidateCount``
    give that many choices (Groq 400s ``n != 1``, OpenRouter ignores it, Gemini 3.x 400s
    ``Multiple candidates is not enabled for this model``, 2.5 serves up to 8). A ``tool``
    message must answer an earlier call (OpenAI's 400); a Gemini ``functionResponse`` must
    carry the name of an earlier ``functionCall`` and an object ``response``.

Embeddings (``embeddings.py``) and the Responses API (``responses.py``)
    ``/embeddings`` on OpenAI, OpenRouter, Together and Gemini's compatible endpoint, Gemini's
    ``:embedContent`` / ``:batchEmbedContents``; deterministic unit vectors of each model's
    dimension, ``dimensions``, ``encoding_format: base64``; Groq answers model-not-found.
    ``/responses`` on OpenAI (stored, ``previous_response_id``), Groq and OpenRouter
    (stateless: ``store: true`` / ``previous_response_id`` are 400s); events with a rising
    ``sequence_number``, ``[DONE]`` only on OpenRouter.

Limits (per provider, per key, per model; OpenRouter's ``:free`` models share one pool per key)
    groq rpm 30 / rpd 1000 / tpm 8000 / tpd 100000 (rolling day); gemini rpm 60 / rpd 1500 /
    tpm 250000 / tpd 15000000 (day ends at midnight America/Los_Angeles, DST-aware); openrouter
    rpm 20 / rpd 1000 (UTC day); together rpm 40 / tpd 100000; openai rpm 60 / tpm 150000 /
    tpd 1000000. Minute windows slide: a request counts for exactly 60 s after it was served.
    A request refused before admission (auth, validation, injected error) does not count.

Faults (``set_fault(provider, fault, model=None)``, ``POST /_sim/faults``, ``[[faults]]`` in TOML)
    ``{"kind": "status", "status": 503}`` (any status; 500, 502, 503, 529 have provider bodies;
    ``"retry_after": 30`` adds ``Retry-After: 30``, as on an overloaded provider's 503);
    ``{"kind": "error_rate", "rate": 0.3, "status": 500, "seed": 1}``;
    ``{"kind": "rate_limit", "retry_after": 7}`` (omit ``retry_after`` for a 429 without it);
    ``{"kind": "quota_exhausted"}`` (Gemini PerDay QuotaFailure, OpenAI ``insufficient_quota``,
    OpenRouter ``free-models-per-day``, Groq RPD, Together 402 ``credit_limit``);
    ``{"kind": "reset"}`` (TCP reset before headers); ``{"kind": "hang"}`` (never answers);
    ``{"kind": "slow_first_token", "seconds": 2}`` (real seconds; for a stream the headers come
    at once and the first chunk late); ``{"kind": "cut_stream", "after_chunks": 2}`` (connection
    dropped mid-body); ``{"kind": "stall", "after_chunks": 2}``; ``{"kind": "malformed_sse",
    "after_chunks": 1}`` (one broken event, then the rest); ``{"kind": "no_done"}``;
    ``{"kind": "error_in_200"}`` (a 200 whose body is an error, or a mid-stream error event);
    ``{"kind": "context_length"}``; ``{"kind": "content_filter"}``; ``{"kind":
    "reject_prefill"}`` (a request ending in an assistant prefill gets a 400 "assistant message
    prefill is not supported for this model": OpenAI-style ``code: prefill_not_supported``,
    ``param: messages``; Google 400 ``INVALID_ARGUMENT``; OpenRouter's envelope with the upstream
    error in ``metadata.raw``). A model can refuse prefills for good: ``prefill = false`` in its
    ``[providers.<p>.models."<id>"]`` table.
    Any fault takes ``"for_seconds": 60`` (active for that long on the simulator's clock from when
    it was set, then healthy) and ``"count": N`` (only the next N matching requests). Strings
    ``"503"`` or ``"hang"`` are shortcuts. A model's own fault wins over the provider-wide one;
    setting a fault replaces the previous one in that slot. Stream-only kinds (cut_stream, stall,
    malformed_sse, no_done) leave non-streaming requests alone, and reject_prefill leaves
    requests without a prefill alone; neither uses up a ``count`` on them. ``no_done`` sends
    every chunk (the finish chunk and, when asked for, the usage chunk) and omits only ``data:
    [DONE]``; ``malformed_sse`` inserts one unparsable event and then sends the whole stream.

Choices where the reference says "unconfirmed" (or is silent)
    - Groq: retired ids shut down in 2026 answer 404 ``model_not_found`` (as observed); older
      retirements (``mixtral-8x7b-32768``...) answer 400 ``model_decommissioned``. Context-length
      code ``context_length_exceeded``; 5xx bodies ``{"message": "Service Unavailable", "type":
      "internal_server_error"}``. Reset headers report the time to refill at a constant rate
      (``used * span / limit``), which reproduces the reference examples.
    - OpenAI: reset headers likewise; a limit-hit 429 carries ``retry-after``.
    - Gemini: no ``Retry-After`` header; a missing key is 403 ``PERMISSION_DENIED``; the per-day
      ``retryDelay`` is 20-45 s; token quota ids ``GenerateContentInputTokensPerModelPer{Minute,
      Day}-FreeTier``; the compatible endpoint wraps EVERY error in a JSON array, lists ids with
      the ``models/`` prefix (and accepts either form), answers a bad key with 400 (so the SDK
      raises ``BadRequestError``) and honours ``stream_options.include_usage``.
    - OpenRouter: a wrong key says ``User not found.``; per-minute platform 429 wording
      ``free-models-per-min`` (paid models: ``requests-per-min`` / ``-per-day``); moderation is a
      403 with ``metadata.reasons``; ``/key`` includes ``free_model_daily_requests``; paid models
      get per-model windows with the same numbers; usage is on a final chunk with empty
      ``choices``; upstream 429s carry ``Retry-After`` only when the fault sets it.
    - Together: 429 body ``{"error": {"message", "type": "dynamic_*_limited", "param", "code"}}``;
      no ``Retry-After`` on limit hits (``x-ratelimit-reset`` instead), but a ``rate_limit``
      fault with ``retry_after`` sends both; a missing key is a JSON 401; per-second token
      headers use TPM/60 or, without TPM, TPD/86400; ``quota_exhausted`` is 402 ``credit_limit``.
    - content_filter: a 400 for the OpenAI-compatible providers, except OpenRouter (403) and
      Gemini native (200 with ``promptFeedback.blockReason``, as Google does).
"""

from __future__ import annotations

from llmswitch.simulator.app import create_app
from llmswitch.simulator.config import SimConfigError, load_config
from llmswitch.simulator.faults import FaultError
from llmswitch.simulator.state import Simulator
from llmswitch.simulator.tokens import count_prompt_tokens

__all__ = [
    "FaultError",
    "SimConfigError",
    "Simulator",
    "count_prompt_tokens",
    "create_app",
    "load_config",
]
