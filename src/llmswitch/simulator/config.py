"""Simulator configuration: a TOML file, a dict of the same shape, or nothing (the defaults).

Shape (see ``examples/simulator.toml`` for a commented file)::

    [simulator]
    reply_tokens = 16          # reply length of every model unless overridden
    chunk_tokens = 4           # tokens per streamed chunk

    [providers.groq]
    reply_tokens = 32
    limits = { rpm = 30, rpd = 1000, tpm = 8000, tpd = 100000 }   # 0 disables a window
    replace_models = false     # true: only the models below exist

    [providers.groq.models."my-model"]
    context_window = 8192
    reply_tokens = 8
    prefill = false            # refuse a trailing assistant message with a 400 (default true)
    max_candidates = 1         # largest n / candidateCount served (default 128; gemini 8)

    [providers.groq.key_limits."gsk_test_2"]
    rpm = 5

    [[faults]]
    provider = "groq"
    model = "openai/gpt-oss-20b"   # optional
    kind = "status"
    status = 503
    for_seconds = 60

Per-key limits are kept under a digest of the key, never the key itself.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmswitch.simulator.catalog import ModelInfo, ProviderSpec, default_specs

ConfigSource = dict[str, Any] | str | Path | None


class SimConfigError(ValueError):
    """The simulator config is invalid; the message names the field."""


def key_id(key: str) -> str:
    """A stable, non-reversible handle for a key, used to scope per-key state."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(slots=True)
class SimConfig:
    specs: dict[str, ProviderSpec] = field(default_factory=default_specs)
    chunk_tokens: int = 4
    key_limits: dict[tuple[str, str], dict[str, int | None]] = field(default_factory=dict)
    faults: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)


def load_config(source: ConfigSource = None) -> SimConfig:
    """Read ``source`` (dict, TOML path, or None) on top of the built-in providers."""
    if source is None:
        return SimConfig()
    if isinstance(source, (str, Path)):
        try:
            data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SimConfigError(f"cannot read simulator config {source}: {exc}") from exc
    else:
        data = source
    return _from_dict(data)


def _from_dict(data: dict[str, Any]) -> SimConfig:
    cfg = SimConfig()
    sim = data.get("simulator", {})
    default_reply = sim.get("reply_tokens")
    cfg.chunk_tokens = max(1, int(sim.get("chunk_tokens", cfg.chunk_tokens)))
    if default_reply is not None:
        for spec in cfg.specs.values():
            spec.reply_tokens = int(default_reply)
    for name, table in data.get("providers", {}).items():
        if name not in cfg.specs:
            raise SimConfigError(f"providers.{name}: unknown provider; known: {sorted(cfg.specs)}")
        _apply_provider(cfg, cfg.specs[name], table)
    for i, entry in enumerate(data.get("faults", [])):
        entry = dict(entry)
        provider = entry.pop("provider", None)
        if provider not in cfg.specs:
            raise SimConfigError(f"faults[{i}].provider: must be one of {sorted(cfg.specs)}")
        cfg.faults.append((provider, entry.pop("model", None), entry))
    return cfg


def _apply_provider(cfg: SimConfig, spec: ProviderSpec, table: dict[str, Any]) -> None:
    where = f"providers.{spec.name}"
    if "reply_tokens" in table:
        spec.reply_tokens = int(table["reply_tokens"])
    if "limits" in table:
        spec.limits = spec.limits.merged(**_limit_values(table["limits"], f"{where}.limits"))
    if table.get("replace_models"):
        spec.models = {}
    models = table.get("models", {})
    if isinstance(models, list):  # a plain list of ids is fine too
        models = {m: {} for m in models}
    for model_id, info in models.items():
        default_window = 1_048_576 if spec.name == "gemini" else 131_072
        spec.models[model_id] = ModelInfo(
            model_id,
            int(info.get("context_window", default_window)),
            None if info.get("reply_tokens") is None else int(info["reply_tokens"]),
            _flag(info.get("prefill", True), f"{where}.models.{model_id}.prefill"),
            int(info.get("max_candidates", 8 if spec.name == "gemini" else 128)),
        )
    for key, values in table.get("key_limits", {}).items():
        cfg.key_limits[(spec.name, key_id(key))] = _limit_values(values, f"{where}.key_limits")


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SimConfigError(f"{where}: must be true or false, got {value!r}")
    return value


def _limit_values(values: dict[str, Any], where: str) -> dict[str, int | None]:
    unknown = set(values) - {"rpm", "rpd", "tpm", "tpd"}
    if unknown:
        raise SimConfigError(f"{where}: unknown window(s) {sorted(unknown)}; use rpm/rpd/tpm/tpd")
    return {k: int(v) for k, v in values.items()}
