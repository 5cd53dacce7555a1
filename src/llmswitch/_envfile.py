"""Write provider keys into a ``.env`` file without exposing them or losing the user's lines.

The code behind ``llmswitch setup`` and ``scripts/update_env_multi_provider.py``. Why by hand and
not ``dotenv.set_key``: the file holds secrets, so it is created with mode 0600 from the first byte
(a temp file from ``mkstemp``, then an atomic ``os.replace``), never left world-readable, never
half-written; every other line and comment stays as it was.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / ".env"
    >>> _ = update_env_file(path, {"GROQ_API_KEY": "gsk_example"})
    >>> path.read_text()
    'GROQ_API_KEY=gsk_example\\nLLM_PROVIDER=multi\\nLLM_MODEL=auto\\n'
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from llmswitch._catalog import CATALOG

DEFAULTS: Mapping[str, str] = {"LLM_PROVIDER": "multi", "LLM_MODEL": "auto"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+,-]+")


def key_variables() -> dict[str, str]:
    """Provider name -> the variable ``setup`` writes its key to (the first of ``api_key_env``)."""
    return {name: spec.api_key_env[0] for name, spec in CATALOG.items()}


def quote(value: str) -> str:
    """The value as python-dotenv reads it back unchanged: bare when safe, else quoted.

    Single quotes turn off escapes; values holding a single quote get double quotes with
    backslash escapes instead. python-dotenv expands ``${VAR}`` inside any quotes, so such a value
    cannot be written literally and is refused.
    """
    if "\n" in value or "\r" in value:
        raise ValueError("a .env value cannot span lines")
    if "${" in value:
        raise ValueError("a .env value cannot contain '${' (python-dotenv would expand it)")
    if _PLAIN.fullmatch(value):
        return value
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def update_env_file(path: str | Path, values: Mapping[str, str]) -> Path:
    """Set ``values`` in the ``.env`` at ``path``, keeping every other line; returns the path.

    Existing assignments are updated in place (all of them, if a name repeats), new names are
    appended. ``LLM_PROVIDER=multi`` and ``LLM_MODEL=auto`` are set unless ``values`` names them:
    this file's purpose is a multi-provider setup. The result has mode 0600.

    Raises:
        ValueError: a name is not a valid variable name, or a value spans lines or holds ``${``.
    """
    target = Path(path)
    wanted = {**values, **{k: v for k, v in DEFAULTS.items() if k not in values}}
    for name in wanted:
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid environment variable name")
    rendered = {name: f"{name}={quote(value)}" for name, value in wanted.items()}
    lines = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
    seen: set[str] = set()
    for i, line in enumerate(lines):
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) in rendered:
            seen.add(match.group(1))
            lines[i] = rendered[match.group(1)]
    lines += [text for name, text in rendered.items() if name not in seen]
    _write_private(target, "".join(f"{line}\n" for line in lines))
    return target


def _write_private(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically with mode 0600 (mkstemp creates it so)."""
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prompt_for_keys(ask: Callable[[str], str]) -> dict[str, str]:
    """Ask for each built-in provider's key through ``ask``; blank answers are skipped.

    ``ask`` should not echo (the CLI passes ``getpass.getpass``); the prompt names the provider
    and the variable, never a value.
    """
    keys: dict[str, str] = {}
    for provider, variable in key_variables().items():
        answer = ask(f"{provider} API key ({variable}), blank to skip: ").strip()
        if answer:
            keys[variable] = answer
    return keys
