"""Rate-limit header dialects: what a reply's headers say about the key's windows.

The provider knows best: these observations override our local estimate of what is left and when
it resets (see ``quota.learned_limits`` and ``quota.block_from_observations``).

============  ==========================================================================
dialect       headers and meaning
============  ==========================================================================
groq          ``x-ratelimit-{limit,remaining,reset}-requests`` = requests per **day** (rpd);
              ``-tokens`` = tokens per minute (tpm); resets are Go durations (``2m59.56s``)
openai        the same names, but ``-requests`` is per **minute** (rpm); ``-tokens`` tpm
together      per-second values (no window of ours); on 429, ``x-ratelimit-reset`` seconds
              is the wait, reported as an exhausted rpm window
openrouter    only on a platform 429: ``X-RateLimit-Limit/-Remaining/-Reset``, the reset in
              epoch **milliseconds**; needs ``now`` to become seconds-from-now. A reset more
              than a minute away is the free daily cap (rpd), otherwise the per-minute one
none          no headers (Gemini): the 429 body carries the hints instead
============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from llmswitch._errors import ConfigError
from llmswitch._quota import LimitObservation, parse_duration


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    return parse_duration(value) if value is not None else None


def _triple(h: Mapping[str, str], suffix: str, window: str) -> list[LimitObservation]:
    limit = _int(h.get(f"x-ratelimit-limit-{suffix}"))
    remaining = _int(h.get(f"x-ratelimit-remaining-{suffix}"))
    reset = _seconds(h.get(f"x-ratelimit-reset-{suffix}"))
    if limit is None and remaining is None and reset is None:
        return []
    return [LimitObservation(window, limit=limit, remaining=remaining, reset_after=reset)]


def _groq(h: Mapping[str, str], status: int, now: float | None) -> list[LimitObservation]:
    return _triple(h, "requests", "rpd") + _triple(h, "tokens", "tpm")


def _openai(h: Mapping[str, str], status: int, now: float | None) -> list[LimitObservation]:
    # Project-scoped token caps (x-ratelimit-*-project-tokens) are left out: a second tpm
    # observation would make learned_limits flip between the two caps.
    return _triple(h, "requests", "rpm") + _triple(h, "tokens", "tpm")


def _together(h: Mapping[str, str], status: int, now: float | None) -> list[LimitObservation]:
    if status != 429:
        return []
    wait = _seconds(h.get("x-ratelimit-reset"))
    if wait is None:
        return []
    return [LimitObservation("rpm", remaining=0, reset_after=wait)]


def _openrouter(h: Mapping[str, str], status: int, now: float | None) -> list[LimitObservation]:
    if status != 429:
        return []
    limit = _int(h.get("x-ratelimit-limit"))
    remaining = _int(h.get("x-ratelimit-remaining"))
    reset_ms = _int(h.get("x-ratelimit-reset"))
    if limit is None and remaining is None and reset_ms is None:
        return []
    reset_after = None
    if reset_ms is not None and now is not None:
        reset_after = max(0.0, reset_ms / 1000.0 - now)
    daily = reset_after > 60.0 if reset_after is not None else (limit or 0) > 20
    window = "rpd" if daily else "rpm"
    return [LimitObservation(window, limit=limit, remaining=remaining, reset_after=reset_after)]


def _none(h: Mapping[str, str], status: int, now: float | None) -> list[LimitObservation]:
    return []


_Reader = Callable[[Mapping[str, str], int, "float | None"], list[LimitObservation]]
DIALECTS: dict[str, _Reader] = {
    "groq": _groq,
    "openai": _openai,
    "together": _together,
    "openrouter": _openrouter,
    "none": _none,
}


def read_limit_headers(
    dialect: str, headers: Mapping[str, str], status: int, *, now: float | None = None
) -> list[LimitObservation]:
    """What ``headers`` say about the serving key's windows, in the provider's ``dialect``.

    Args:
        dialect: one of ``DIALECTS`` (``"groq"``, ``"openai"``, ``"together"``,
            ``"openrouter"``, ``"none"``).
        headers: the reply's headers, any case.
        status: the reply's HTTP status (some dialects only speak on a 429).
        now: wall-clock epoch seconds; only ``"openrouter"`` needs it, to turn its epoch
            reset into seconds-from-now (without it, ``reset_after`` stays ``None``).

    Raises:
        ConfigError: for an unknown dialect.
    """
    reader = DIALECTS.get(dialect)
    if reader is None:
        valid = ", ".join(repr(k) for k in DIALECTS)
        raise ConfigError(f"rate-limit header dialect {dialect!r} is unknown; use one of {valid}")
    lower = {k.lower(): v for k, v in headers.items()}
    return reader(lower, status, now)
