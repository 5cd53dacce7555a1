"""One test per row of the table in ``wire/classify.py``; bodies from the reference."""

from __future__ import annotations

import pytest

from llmswitch import _errors as errors
from llmswitch._wire import CallContext, wire_for
from llmswitch._wire.classify import classify
from tests.wire._bodies import (
    GEMINI_BAD_KEY,
    GROQ_413,
    GROQ_RPD,
    GROQ_RPM,
    GROQ_TPD,
    GROQ_TPM,
    OPENAI_TOO_LARGE,
    OPENAI_TPM,
    OR_DATE,
    OR_FREE_DAY,
    OR_UPSTREAM,
    gemini_429,
    google,
    oai,
    openrouter,
)

CTX = CallContext(provider="p", model="m", key_alias="main")


H = dict[str, str]
ROWS: list[tuple[str, int, H, bytes, type[errors.ProviderError], str | None, float | None]] = [
    # id, status, headers, body, class, window, retry_after
    (
        "groq-401",
        401,
        {},
        oai("Invalid API Key", "invalid_request_error", "invalid_api_key"),
        errors.AuthFailed,
        None,
        None,
    ),
    (
        "groq-tpm",
        429,
        {"retry-after": "24"},
        oai(GROQ_TPM, "tokens", "rate_limit_exceeded"),
        errors.RateLimited,
        "tpm",
        23.5125,
    ),
    (
        "groq-rpm-ms",
        429,
        {},
        oai(GROQ_RPM, "requests", "rate_limit_exceeded"),
        errors.RateLimited,
        "rpm",
        0.7896,
    ),
    (
        "groq-rpd",
        429,
        {},
        oai(GROQ_RPD, "requests", "rate_limit_exceeded"),
        errors.QuotaExhausted,
        "rpd",
        86.4,
    ),
    (
        "groq-tpd",
        429,
        {},
        oai(GROQ_TPD, "tokens", "rate_limit_exceeded"),
        errors.QuotaExhausted,
        "tpd",
        86.4,
    ),
    (
        "groq-413",
        413,
        {},
        oai(GROQ_413, "tokens", "rate_limit_exceeded"),
        errors.BadRequest,
        None,
        None,
    ),
    (
        "groq-context",
        400,
        {},
        oai("Please reduce the length of the messages or completion.", "invalid_request_error"),
        errors.ContextTooLong,
        None,
        None,
    ),
    (
        "groq-404",
        404,
        {},
        oai(
            "The model `llama-3.3-70b-versatile` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        errors.BadRequest,
        None,
        None,
    ),
    (
        "groq-decommissioned",
        400,
        {},
        oai(
            "The model `X` has been decommissioned", "invalid_request_error", "model_decommissioned"
        ),
        errors.BadRequest,
        None,
        None,
    ),
    ("groq-498", 498, {}, b"", errors.ServerError, None, None),
    (
        "openai-401",
        401,
        {},
        oai("Incorrect API key provided: sk-ab***yz.", "invalid_request_error", "invalid_api_key"),
        errors.AuthFailed,
        None,
        None,
    ),
    (
        "openai-tpm",
        429,
        {"retry-after-ms": "84"},
        oai(OPENAI_TPM, "tokens", "rate_limit_exceeded"),
        errors.RateLimited,
        "tpm",
        0.084,
    ),
    (
        "openai-too-large",
        429,
        {},
        oai(OPENAI_TOO_LARGE, "tokens", "rate_limit_exceeded"),
        errors.BadRequest,
        None,
        None,
    ),
    (
        "openai-insufficient",
        429,
        {},
        oai(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        errors.QuotaExhausted,
        None,
        None,
    ),
    (
        "openai-credit",
        429,
        {},
        oai("You have no credits remaining.", "insufficient_quota", "credit_balance_exhausted"),
        errors.QuotaExhausted,
        None,
        None,
    ),
    (
        "openai-context",
        400,
        {},
        oai(
            "This model's maximum context length is 128000 tokens.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        errors.ContextTooLong,
        None,
        None,
    ),
    (
        "openai-500",
        500,
        {},
        oai("The server had an error while processing your request.", "server_error"),
        errors.ServerError,
        None,
        None,
    ),
    (
        "openai-503",
        503,
        {"retry-after": "3"},
        oai("The engine is currently overloaded"),
        errors.ServerError,
        None,
        3.0,
    ),
    (
        "gemini-per-minute",
        429,
        {},
        gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
        errors.RateLimited,
        "rpm",
        38.90923309,
    ),
    (
        "gemini-per-day",
        429,
        {},
        gemini_429("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
        errors.QuotaExhausted,
        "rpd",
        None,
    ),
    (
        "gemini-tokens-per-minute",
        429,
        {},
        gemini_429("GenerateContentInputTokensPerModelPerMinute-FreeTier"),
        errors.RateLimited,
        "tpm",
        38.90923309,
    ),
    (
        "gemini-limit-0",
        429,
        {},
        gemini_429(
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "Quota exceeded for metric: x, limit: 0, model: gemini-3.1-pro",
        ),
        errors.QuotaExhausted,
        "rpm",
        None,
    ),
    (
        "gemini-retryinfo-only",
        429,
        {},
        gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "Quota exceeded."),
        errors.RateLimited,
        "rpm",
        38.0,
    ),
    (
        "gemini-plain-429",
        429,
        {},
        google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        errors.RateLimited,
        None,
        None,
    ),
    (
        "gemini-compat-array-429",
        429,
        {},
        b'[{"error":{"code":429,"message":"Resource has been '
        b'exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]',
        errors.RateLimited,
        None,
        None,
    ),
    ("gemini-bad-key", 400, {}, GEMINI_BAD_KEY, errors.AuthFailed, None, None),
    (
        "gemini-leaked-key",
        403,
        {},
        google(403, "PERMISSION_DENIED", "Your API key was reported as leaked."),
        errors.AuthFailed,
        None,
        None,
    ),
    (
        "gemini-context",
        400,
        {},
        google(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1196265) "
            "exceeds the maximum number of tokens allowed (1048576).",
        ),
        errors.ContextTooLong,
        None,
        None,
    ),
    (
        "gemini-404",
        404,
        {},
        google(404, "NOT_FOUND", "models/gemini-1.5-flash is not found for API version v1beta"),
        errors.BadRequest,
        None,
        None,
    ),
    (
        "gemini-503",
        503,
        {},
        google(503, "UNAVAILABLE", "The model is overloaded."),
        errors.ServerError,
        None,
        None,
    ),
    (
        "gemini-504",
        504,
        {},
        google(504, "DEADLINE_EXCEEDED", "The request timed out."),
        errors.ServerError,
        None,
        None,
    ),
    (
        "openrouter-401",
        401,
        {},
        openrouter(401, "Missing Authentication header"),
        errors.AuthFailed,
        None,
        None,
    ),
    (
        "openrouter-402",
        402,
        {},
        openrouter(402, "Insufficient credits. Add more using https://openrouter.ai/credits"),
        errors.QuotaExhausted,
        None,
        None,
    ),
    (
        "openrouter-moderation",
        403,
        {},
        openrouter(
            403,
            "Request blocked: flagged",
            {"reasons": ["violence"], "flagged_input": "x", "provider_name": "OpenAI"},
        ),
        errors.ContentFiltered,
        None,
        None,
    ),
    ("openrouter-free-day", 429, OR_DATE, OR_FREE_DAY, errors.QuotaExhausted, "rpd", 3600.0),
    (
        "openrouter-free-min",
        429,
        {},
        openrouter(429, "Rate limit exceeded: free-models-per-min."),
        errors.RateLimited,
        "rpm",
        None,
    ),
    ("openrouter-upstream", 429, {"retry-after": "5"}, OR_UPSTREAM, errors.RateLimited, None, 5.0),
    (
        "openrouter-404",
        404,
        {},
        openrouter(404, "No endpoints found for deepseek/deepseek-r1:free."),
        errors.BadRequest,
        None,
        None,
    ),
    (
        "openrouter-context",
        400,
        {},
        openrouter(
            400,
            "This endpoint's maximum context length is "
            "163840 tokens. However, you requested about "
            "200000 tokens",
        ),
        errors.ContextTooLong,
        None,
        None,
    ),
    (
        "openrouter-502",
        502,
        {},
        openrouter(502, "Provider returned error"),
        errors.ServerError,
        None,
        None,
    ),
    ("together-401-text", 401, {}, b"Missing API key", errors.AuthFailed, None, None),
    (
        "together-402",
        402,
        {},
        oai("Credit limit exceeded", "credit_limit"),
        errors.QuotaExhausted,
        None,
        None,
    ),
    (
        "together-context-403",
        403,
        {},
        oai(
            "Input validation error: `inputs` tokens + "
            "`max_new_tokens` must be <= 32769. Given: 30 `inputs` "
            "tokens and 999999999 `max_new_tokens`",
            "invalid_request_error",
        ),
        errors.ContextTooLong,
        None,
        None,
    ),
    (
        "together-dynamic",
        429,
        {"x-ratelimit-reset": "2"},
        oai("rate limited", "dynamic_request_limited"),
        errors.RateLimited,
        None,
        2.0,
    ),
    ("together-422", 422, {}, b'{"detail": "bad field"}', errors.BadRequest, None, None),
    (
        "cloudflare-524",
        524,
        {},
        b"<html><title>A timeout occurred</title></html>",
        errors.ServerError,
        None,
        None,
    ),
    ("overloaded-529", 529, {}, b"", errors.ServerError, None, None),
    ("request-timeout-408", 408, {}, b"", errors.Timeout, None, None),
]


@pytest.mark.parametrize(
    ("status", "headers", "body", "cls", "window", "retry_after"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_classify_table(
    status: int,
    headers: H,
    body: bytes,
    cls: type[errors.ProviderError],
    window: str | None,
    retry_after: float | None,
) -> None:
    err = classify(status, headers, body, CTX)
    assert type(err) is cls, err
    assert err.window == window
    assert err.retry_after == (pytest.approx(retry_after) if retry_after is not None else None)
    assert (err.provider, err.model, err.key_alias, err.status) == ("p", "m", "main", status)
    assert err.message


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        pytest.param(openrouter(429, "Rate limit exceeded"), errors.RateLimited, id="embedded-429"),
        pytest.param(
            openrouter(502, "Provider returned error"), errors.ServerError, id="embedded-502"
        ),
        pytest.param(b'{"error": "upstream stopped"}', errors.ServerError, id="string-error"),
    ],
)
def test_error_inside_a_200(body: bytes, cls: type[errors.ProviderError]) -> None:
    for api in ("openai", "gemini"):
        with pytest.raises(cls) as info:
            wire_for(api).parse(200, {}, body, CTX)
        assert info.value.status == 200
        assert "inside a 200" in info.value.message


def test_echoed_key_is_redacted() -> None:
    canary = "sk-or-v1-CANARY0123456789abcdef"
    err = classify(401, {}, oai(f"Invalid key {canary}", code="invalid_api_key"), CTX)
    assert "CANARY" not in str(err)
    assert "CANARY" not in repr(err.args)
