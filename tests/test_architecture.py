"""The rules of docs/architecture.md on which room may import which, checked on the source.

Read with ``ast`` (nothing is imported), so a rule broken by a lazy import inside a function
fails too. Each rule names the rooms it guards; ``KNOWN`` lists the imports that still break a
rule, each with the reason, and a known import that no longer exists fails the test so the list
only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "llmswitch"

#: Value types: what every room speaks. They import only each other.
VALUES = {"types", "errors", "events", "clock", "tokens", "secrets"}
#: Pure decisions over values and a clock: no store, no wire, no settings object, no I/O.
POLICY = {"quota", "health", "ledger", "strategies", "availability"}

#: Imports that still break a rule (module, imported): why, and which issue removes them.
KNOWN: dict[tuple[str, str], str] = {}


def _plain(dotted: str) -> str:
    """A module's room name without the underscores that make it private (``_state.base`` is
    the room ``state.base``): the rules speak of rooms, not of how they are hidden."""
    return ".".join(
        p[1:] if p.startswith("_") and not p.startswith("__") else p for p in dotted.split(".")
    )


def _room(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return _plain(".".join(parts)) or "llmswitch"


def _imports(path: Path) -> set[str]:
    """The llmswitch rooms ``path`` imports (``from llmswitch import health`` counts as
    importing ``health``; a bare ``from llmswitch import X`` of a name, as the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "llmswitch":
                for alias in node.names:
                    sub = PACKAGE / f"{alias.name}.py"
                    pkg = PACKAGE / alias.name / "__init__.py"
                    found.add(_plain(alias.name) if sub.exists() or pkg.exists() else "llmswitch")
            elif node.module.startswith("llmswitch."):
                found.add(_plain(node.module.removeprefix("llmswitch.")))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("llmswitch."):
                    found.add(_plain(alias.name.removeprefix("llmswitch.")))
    return found


GRAPH = {_room(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _top(room: str) -> str:
    return room.split(".")[0]


def _allowed_only(rooms: set[str], allowed: set[str]) -> list[tuple[str, str]]:
    return [
        (room, imp)
        for room in sorted(rooms)
        for imp in sorted(GRAPH[room])
        if _top(imp) not in allowed and (room, imp) not in KNOWN
    ]


def _rooms(pred: object) -> set[str]:
    assert callable(pred)
    return {room for room in GRAPH if pred(room)}


#: The call machine, its drivers, and the rooms of its steps.
CALL_ROOMS = {
    "call",
    "router",
    "attempts",
    "admission",
    "settlement",
    "outage",
    "policies",
    "patience",
    "planning",
    "stream_progress",
    "steps",
}

RULES: dict[str, tuple[set[str], set[str]]] = {
    # name: (the rooms the rule covers, the top-level rooms they may import)
    "value types import only value types": (VALUES, VALUES),
    "policy imports only value types and other policy": (POLICY, VALUES | POLICY),
    "state/ imports only value types and policy (policy owns its vocabulary)": (
        _rooms(lambda r: _top(r) == "state"),
        VALUES | POLICY | {"state"},
    ),
    "wire/ imports only value types, quota's observations and itself": (
        _rooms(lambda r: _top(r) == "wire"),
        VALUES | {"quota", "wire", "llmswitch"},
    ),
    "capabilities decide from value types and the catalog's declarations alone": (
        {"capabilities"},
        VALUES | {"catalog"},
    ),
    "embeddings decide from value types, the settings, names and the capability vocabulary": (
        {"embeddings"},
        VALUES | {"config", "names", "capabilities", "health"},
    ),
    "the simulator is independent of the library (it models providers, not us)": (
        _rooms(lambda r: _top(r) == "simulator"),
        {"simulator", "clock", "threaded_uvicorn"},
    ),
    "the store side of a call (admit, settle, put out) reads no wire: the wire hands it "
    "limit observations": (
        {"admission", "settlement", "outage", "policies", "attempts"},
        VALUES
        | POLICY
        | {"config", "planning", "admission", "settlement", "outage"}
        | {"policies", "patience", "state"},
    ),
    "the call machine and its drivers never touch the server, state backends or config files": (
        CALL_ROOMS,
        VALUES
        | POLICY
        | CALL_ROOMS
        | {"config", "names", "transport", "transport_aiohttp", "wire", "capabilities"}
        | {"images", "embeddings"}
        | {"stream_progress", "steps", "llmswitch"}
        | {"state"},  # state.base only: checked below
    ),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_import_rule(rule: str) -> None:
    rooms, allowed = RULES[rule]
    assert rooms, f"rule {rule!r} covers no module: a room was renamed?"
    broken = _allowed_only(rooms, allowed)
    assert not broken, f"{rule}: " + ", ".join(f"{a} imports {b}" for a, b in broken)


def test_the_core_uses_the_store_interface_only() -> None:
    core = CALL_ROOMS | {"status", "key_reading", "alerts", "manager"}
    broken = [
        (room, imp)
        for room in sorted(core & GRAPH.keys())
        for imp in sorted(GRAPH[room])
        if _top(imp) == "state" and imp not in ("state", "state.base", "state.guarded")
    ]
    assert not broken, ", ".join(f"{a} imports the backend {b}" for a, b in broken)


def test_the_library_never_imports_the_server_or_the_simulator() -> None:
    library = _rooms(
        lambda r: (
            _top(r)
            not in {"server", "simulator", "cli", "demo", "testing", "llmswitch", "__main__"}
        )
    )
    broken = [
        (room, imp)
        for room in sorted(library)
        for imp in sorted(GRAPH[room])
        if _top(imp) in {"server", "simulator", "cli", "demo"}
    ]
    assert not broken, ", ".join(f"{a} imports {b}" for a, b in broken)


def test_known_exceptions_still_exist() -> None:
    gone = [pair for pair in KNOWN if pair[1] not in GRAPH.get(pair[0], set())]
    assert not gone, f"no longer imported, remove from KNOWN: {gone}"
