"""``/_sim/...``: the HTTP twin of ``SimulatorHandle``'s Python controls (JSON in and out).

``POST /_sim/faults`` ``{"provider", "fault": {...} | "503", "model"?}``;
``DELETE /_sim/faults`` ``{"provider"?, "model"?}`` (or the same as query parameters);
``POST /_sim/limits`` ``{"provider", "key"?, "rpm"?, "rpd"?, "tpm"?, "tpd"?}``;
``POST /_sim/keys/revoke`` ``{"provider", "key"}``; ``GET /_sim/stats``;
``GET /_sim/requests?provider=&key=&model=``; ``POST /_sim/reset``;
``POST /_sim/clock/advance`` ``{"seconds"}`` (FakeClock only, else 409).
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator.asgi import Exchange, Reply
from llmswitch.simulator.state import Simulator


def _ok(**extra: Any) -> Reply:
    return Reply(200, {"ok": True, **extra}, {}, "control")


def _bad(message: str, status: int = 400) -> Reply:
    return Reply(status, {"ok": False, "error": message}, {}, "control")


async def control(sim: Simulator, ex: Exchange) -> Reply:
    """Apply one control request; invalid input gets a 400 naming the problem."""
    route = (ex.method, ex.path)
    body = await ex.json() if ex.method in ("POST", "DELETE") else None
    data: dict[str, Any] = {**ex.query, **(body if isinstance(body, dict) else {})}
    try:
        return _apply(sim, route, data)
    except (KeyError, TypeError, ValueError) as exc:
        return _bad(f"{type(exc).__name__}: {exc}")
    except RuntimeError as exc:
        return _bad(str(exc), 409)


def _apply(sim: Simulator, route: tuple[str, str], data: dict[str, Any]) -> Reply:
    if route == ("GET", "/_sim/stats"):
        return Reply(200, sim.stats(), {}, "control")
    if route == ("GET", "/_sim/requests"):
        found = sim.requests(data["provider"], data.get("key"), data.get("model"))
        return Reply(200, {"requests": found}, {}, "control")
    if route == ("POST", "/_sim/faults"):
        sim.set_fault(data["provider"], data["fault"], model=data.get("model"))
        return _ok(faults=sim.faults.describe())
    if route == ("DELETE", "/_sim/faults"):
        sim.clear_faults(data.get("provider"), model=data.get("model"))
        return _ok()
    if route == ("POST", "/_sim/limits"):
        windows = {
            w: None if data.get(w) is None else int(data[w]) for w in ("rpm", "rpd", "tpm", "tpd")
        }
        sim.set_limits(data["provider"], key=data.get("key"), **windows)
        return _ok()
    if route == ("POST", "/_sim/keys/revoke"):
        sim.revoke_key(data["provider"], data["key"])
        return _ok()
    if route == ("POST", "/_sim/reset"):
        sim.reset()
        return _ok()
    if route == ("POST", "/_sim/clock/advance"):
        return _ok(now=sim.advance(float(data["seconds"])))
    return _bad(f"no control {route[0]} {route[1]}", 404)
