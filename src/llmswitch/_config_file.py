"""The file ``llmswitch.toml``: where it is, its shape, and the messages its mistakes get.

Private to ``config``: finding and reading the file, the pydantic models that validate it
(every key, its type and, as its description, what is valid), and the translation of
validation errors into messages that name the file, the dotted key and the fix, never echoing a
string that could be a secret. ``config`` merges the result with the catalog and the
environment into ``Settings``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from llmswitch._catalog import LIMIT_DIALECTS, Api, LimitDialect
from llmswitch._errors import ConfigError
from llmswitch._strategies import STRATEGIES

Strategy = Literal["priority", "weighted", "headroom", "cheapest", "fastest"]


# --- The file's shape: every key, its type and (as its description) what is valid -------------


def _zone(value: str) -> str:
    if value not in ("utc", "rolling"):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown zone") from exc
    return value


_Seconds = Annotated[float, Field(ge=0)]
_Limit = Annotated[int, Field(ge=0)]
_EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
_Text = Annotated[str, Field(pattern=r"\S")]
_Price = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=2, max_length=2)]
_LIMIT = "an integer >= 0 (0 turns the window off)"
_FILE_CONFIG = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)


class _FileGlobal(BaseModel):
    model_config = _FILE_CONFIG

    strategy: Strategy | None = Field(None, description=f"one of {', '.join(STRATEGIES)}")
    cooldown_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    daily_soft_limit: float | None = Field(None, gt=0, le=1, description="a number in (0, 1]")
    timeout_seconds: float | None = Field(None, gt=0, description="a number of seconds > 0")
    state: str | None = Field(
        None,
        pattern=r"^(memory|sqlite|redis)://",
        description="a store URL: memory://, sqlite:///path/to/state.db or redis://host:port/db",
    )
    fail_open: bool | None = Field(None, description="true or false (only with redis:// state)")
    ledger_retention_days: float | None = Field(
        None, gt=0, description="days of raw ledger rows to keep (> 0); roll-ups stay"
    )
    stream_stall_seconds: _Seconds | None = Field(
        None, description="a number of seconds >= 0 (0 turns stall detection off)"
    )
    max_wait_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    probe_after_seconds: _Seconds | None = Field(
        None, description="a number of seconds >= 0 (0: first probe after cooldown_seconds)"
    )
    failures_to_trip: int | None = Field(None, ge=1, description="an integer >= 1")
    retries: int | None = Field(None, ge=0, le=10, description="an integer from 0 to 10")
    retry_backoff_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    retry_after_max_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    retry_timeouts: bool | None = Field(None, description="true or false")
    first_token_seconds: _Seconds | None = Field(
        None, description="a number of seconds >= 0 (0 turns the first-token limit off)"
    )
    stream_continuation: bool | None = Field(None, description="true or false")
    paid_last: bool | None = Field(
        None, description="true (paid providers only when no free one can serve) or false"
    )
    estimate_completion_tokens: int | None = Field(
        None, ge=1, description="an integer >= 1 (tokens reserved for a reply without max_tokens)"
    )
    free_wait_seconds: _Seconds | None = Field(
        None, description="a number of seconds >= 0 to wait for a free slot rather than pay"
    )
    image_fetch_max_bytes: int | None = Field(
        None, ge=1, description="the most bytes of one https image fetched for Gemini (>= 1)"
    )
    image_fetch_seconds: float | None = Field(
        None, gt=0, description="seconds > 0 to fetch one https image for Gemini"
    )
    image_fetch_loopback_http: bool | None = Field(
        None, description="true or false: also fetch http:// images from 127.0.0.1 (tests)"
    )


class _FileProvider(BaseModel):
    model_config = _FILE_CONFIG

    priority: int | None = Field(None, ge=1, description="an integer >= 1 (1 is tried first)")
    api: Api | None = Field(None, description="'openai' (chat completions) or 'gemini' (native)")
    base_url: str | None = Field(
        None, pattern=r"^https?://[^/\s]+", description="an http:// or https:// URL"
    )
    api_key_env: _EnvName | Annotated[list[_EnvName], Field(min_length=1)] | None = Field(
        None, description="an environment variable name or a list of them"
    )
    models: Annotated[list[_Text], Field(min_length=1)] | None = Field(
        None, description="a non-empty list of model ids (the first is the default)"
    )
    embedding_models: list[_Text] | None = Field(
        None, description="a list of embedding model ids (the first is embed's default)"
    )
    requests_per_minute: _Limit | None = Field(None, description=_LIMIT)
    requests_per_day: _Limit | None = Field(None, description=_LIMIT)
    tokens_per_minute: _Limit | None = Field(None, description=_LIMIT)
    tokens_per_day: _Limit | None = Field(None, description=_LIMIT)
    day_resets: Annotated[str, AfterValidator(_zone)] | None = Field(
        None, description="'utc', 'rolling' or an IANA time zone such as 'America/Los_Angeles'"
    )
    free: bool | None = Field(None, description="true or false")
    daily_budget_usd: _Seconds | None = Field(
        None, description="a number of USD >= 0 (0 = no cap), for paid providers only"
    )
    budget_resets: Annotated[str, AfterValidator(_zone)] | None = Field(
        None,
        description="when daily_budget_usd renews: 'utc', 'rolling' (the last 24 hours) or an "
        "IANA time zone such as 'America/Los_Angeles'",
    )
    weight: _Seconds | None = Field(None, description="a number >= 0")
    window_guard_seconds: Annotated[float, Field(ge=0, le=60)] | None = Field(
        None, description="seconds from 0 to 60 a rolling window holds a request past its period"
    )
    enabled: bool | None = Field(None, description="true or false")
    limit_headers: LimitDialect | None = Field(
        None, description=f"one of {', '.join(LIMIT_DIALECTS)}"
    )
    prices: dict[str, _Price] | None = Field(
        None, description="a table of model = [input, output] USD per 1M tokens, each >= 0"
    )
    context_windows: dict[str, Annotated[int, Field(gt=0)]] | None = Field(
        None, description="a table of model = context window in tokens (an integer > 0)"
    )
    headers: dict[str, str] | None = Field(None, description="a table of header = string value")
    api_key: _Text | None = Field(None, description="a non-empty string")
    cooldown_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    probe_after_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    failures_to_trip: int | None = Field(None, ge=1, description="an integer >= 1")
    retries: int | None = Field(None, ge=0, le=10, description="an integer from 0 to 10")
    first_token_seconds: _Seconds | None = Field(None, description="a number of seconds >= 0")
    stream_continuation: bool | None = Field(None, description="true or false")
    prefill: dict[str, bool] | None = Field(
        None, description="a table of model = true/false (continues a trailing assistant turn)"
    )
    aliases: dict[str, _Text] | None = Field(
        None, description="a table of name = one of this provider's model ids"
    )
    estimate_completion_tokens: int | None = Field(
        None, ge=1, description="an integer >= 1 (tokens reserved for a reply without max_tokens)"
    )


_GroupName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")]


class _FileModelGroup(BaseModel):
    model_config = _FILE_CONFIG

    targets: Annotated[list[_Text], Field(min_length=1)] = Field(
        description="a non-empty list of 'provider/model' targets, tried in order"
    )
    strategy: Strategy | None = Field(
        None, description=f"one of {', '.join(STRATEGIES)} (default: the listed order)"
    )
    fallbacks: list[_Text] | None = Field(
        None, description="a list of other [models.NAME] groups, tried when every target refuses"
    )
    paid_last: bool | None = Field(None, description="true or false (default: the global one)")


def _webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError("not an http(s) URL")
    return value


_Fraction = Annotated[float, Field(gt=0, le=1)]
_FRACTION = "a number in (0, 1]"


class _FileAlerts(BaseModel):
    model_config = _FILE_CONFIG

    thresholds: Annotated[list[_Fraction], Field(min_length=1, max_length=10)] | None = Field(
        None, description="a non-empty list of fractions in (0, 1], such as [0.8, 0.95]"
    )
    minute_sustain_seconds: _Seconds | None = Field(
        None, description="a number of seconds >= 0 (0: alert on per-minute windows at once)"
    )
    check_interval_seconds: _Seconds | None = Field(
        None, description="a number of seconds >= 0 between two usage checks of one key"
    )
    budget_threshold: _Fraction | None = Field(None, description=_FRACTION)
    webhook_url: Annotated[str, AfterValidator(_webhook_url)] | None = Field(
        None, description="an http:// or https:// URL with a host"
    )
    webhook_timeout_seconds: float | None = Field(None, gt=0, description="a number of seconds > 0")
    webhook_retries: int | None = Field(None, ge=0, le=10, description="an integer from 0 to 10")
    recent_limit: int | None = Field(None, ge=1, le=1000, description="an integer from 1 to 1000")


class _File(BaseModel):
    model_config = _FILE_CONFIG

    llmswitch: _FileGlobal = Field(
        default_factory=lambda: _FileGlobal.model_validate({}),
        description="a table of global settings",
    )
    providers: dict[str, _FileProvider] = Field(
        default_factory=dict, description="a table per provider, [providers.NAME]"
    )
    alerts: _FileAlerts = Field(
        default_factory=lambda: _FileAlerts.model_validate({}),
        description="a table of alert settings",
    )
    models: dict[_GroupName, _FileModelGroup] = Field(
        default_factory=dict,
        description="a table per model group, [models.NAME] (letters, digits, . _ : @ -; no /)",
    )


# --- Turning validation errors into messages that name the file, the key and the fix -------

_DICT_FIELDS = frozenset({"prices", "context_windows", "headers", "prefill", "aliases"})


def _toml_key(part: str | int) -> str:
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else f'"{text}"'


def _fail(source: Path | str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {problem}")


def _shown(value: object) -> str:
    """``got VALUE; `` for numbers and booleans only: strings may be secrets in the wrong place."""
    if isinstance(value, bool):
        return f"got {str(value).lower()}; "
    if isinstance(value, int | float):
        return f"got {value!r}; "
    return ""


def _owner(loc: tuple[str | int, ...]) -> tuple[type[BaseModel], int]:
    """The model that owns the key at ``loc`` and how many loc parts lead to that key."""
    if loc[0] == "providers" and len(loc) >= 3:
        return _FileProvider, 3
    if loc[0] == "llmswitch" and len(loc) >= 2:
        return _FileGlobal, 2
    if loc[0] == "alerts" and len(loc) >= 2:
        return _FileAlerts, 2
    if loc[0] == "models" and len(loc) >= 3:
        return _FileModelGroup, 3
    return _File, 1


def _problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted key, what is wrong and what would be valid) for one pydantic error."""
    loc: tuple[str | int, ...] = tuple(error["loc"])
    if loc[0] == "providers" and len(loc) == 2:
        return f"providers.{_toml_key(loc[1])}", "expected a table of provider settings"
    if loc[0] == "models" and len(loc) == 3 and loc[2] == "[key]":
        return f"models.{_toml_key(loc[1])}", (
            "expected a group name of letters, digits, '.', '_', ':', '@' and '-' (no '/': "
            "'provider/model' pins a provider)"
        )
    if loc[0] == "models" and len(loc) == 2:
        return f"models.{_toml_key(loc[1])}", (
            "expected a table of group settings (targets = [...]) under a name of letters, "
            "digits, '.', '_', ':', '@' and '-'"
        )
    owner, depth = _owner(loc)
    field = str(loc[depth - 1])
    keep = depth + 1 if field in _DICT_FIELDS and len(loc) > depth else depth
    key = ".".join(_toml_key(p) for p in loc[:keep])
    if error["type"] == "extra_forbidden":
        valid = list(owner.model_fields)
        close = difflib.get_close_matches(field, valid, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return key, f"unknown key{hint}; valid keys: {', '.join(valid)}"
    description = owner.model_fields[field].description if field in owner.model_fields else None
    shown = _shown(error.get("input")) if len(loc) == keep else ""  # not a list's element
    return key, f"{shown}expected {description or 'a valid value'}"


def _validation_error(source: Path | str, exc: ValidationError) -> ConfigError:
    problems: dict[str, str] = {}
    for error in exc.errors():
        key, problem = _problem(error)
        problems.setdefault(key, problem)  # a union reports one error per branch: keep one
    return ConfigError("\n".join(f"{source}: {k}: {p}" for k, p in problems.items()))


# -- finding and reading the file -------------------------------------------------------


def find_config(path: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file: the argument, else ``LLMSWITCH_CONFIG``, else ./llmswitch.toml if any."""
    if path is not None:
        chosen, source = Path(path), "the path argument"
    elif environ.get("LLMSWITCH_CONFIG"):
        chosen, source = Path(environ["LLMSWITCH_CONFIG"]), "LLMSWITCH_CONFIG"
    elif Path("llmswitch.toml").is_file():
        return Path("llmswitch.toml")
    else:
        return None
    if not chosen.is_file():
        raise ConfigError(f"{chosen}: config file not found (named by {source})")
    return chosen


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or a ``ConfigError`` naming the file and what is wrong with it."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from exc


def parse_file(path: Path | str, data: dict[str, Any]) -> _File:
    """``data`` checked against the schema; mistakes become ``ConfigError`` (see above)."""
    try:
        return _File.model_validate(data)
    except ValidationError as exc:  # inputs are hidden from its text, so chaining is safe
        raise _validation_error(path, exc) from exc
