"""``GET /api/llm-providers``, ``GET /api/usage`` and ``GET /healthz``.

``/api/llm-providers`` is exactly ``manager.get_provider_status()`` (the seed promised this
endpoint and its shape), so scripts written against the seed keep working. ``/api/usage`` is
``manager.get_usage(period)`` plus ``by_model_and_key``: the period's daily roll-ups per
provider, model and key alias, which outlive the raw ledger rows (``ledger_retention_days``).
``/healthz`` is for load balancers and stays open even when the gateway needs a key: it says only
whether the process and its state store answer.

Every body passes through the redactor before it leaves: the core already masks keys, and this
makes a leak impossible rather than merely unlikely.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from llmswitch._errors import StorageError
from llmswitch._ledger import PERIODS, rollup_totals
from llmswitch.server import shapes

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager


def redacted_json(body: Any, redact: shapes.Redact, status: int = 200) -> Response:
    text = redact(shapes.dumps(body).decode())
    return Response(
        text,
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


class StatusRoutes:
    """Read-only views of the manager's state."""

    def __init__(self, manager: LLMProviderManager, redact: shapes.Redact) -> None:
        self._manager = manager
        self._redact = redact

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/llm-providers", self.providers, methods=["GET"]),
            Route("/api/usage", self.usage, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
        ]

    async def providers(self, request: Request) -> Response:
        return redacted_json(self._manager.get_provider_status(), self._redact)

    async def usage(self, request: Request) -> Response:
        period = request.query_params.get("period", "today")
        if period not in PERIODS:
            return redacted_json(
                {
                    "error": {
                        "message": (
                            f"unknown period {period!r}; valid periods: {', '.join(PERIODS)}"
                        ),
                        "type": "invalid_request_error",
                        "param": "period",
                        "code": None,
                    }
                },
                self._redact,
                status=400,
            )
        try:
            usage = self._manager.get_usage(period)
            rollups = self._manager.store.rollup_rows(
                since_day=usage["since"], until_day=usage["until"]
            )
            usage["by_model_and_key"] = rollup_totals(rollups)
        except StorageError as exc:  # the ledger lives in the store: say so, as a 503
            status, body, _ = shapes.error_reply(exc, self._redact)
            return redacted_json(body, self._redact, status=status)
        return redacted_json(usage, self._redact)

    async def healthz(self, request: Request) -> Response:
        """200 while some provider can take a call now; 503 with the reason otherwise (the
        store down, no provider with a key, or every provider cooling down or at its limit)."""
        check = self._manager.store.check()
        usable = self._manager.planner.usable
        body: dict[str, Any] = {
            "status": "ok",
            "providers_usable": len(usable),
            "state": {"backend": check.backend, "ok": check.ok},
        }
        reason = None
        if not check.ok:
            reason = f"the state store ({check.backend}) does not answer"
        elif not usable:
            reason = (
                "no provider has an API key: set GROQ_API_KEY, GEMINI_API_KEY, "
                "OPENROUTER_API_KEY, TOGETHER_API_KEY or OPENAI_API_KEY (or run llmswitch setup)"
            )
        elif self._manager.current_provider() is None:
            reason = "no provider can take a call now: " + _why_not(self._manager)
        if reason is not None:
            body["status"], body["reason"] = "degraded" if not check.ok else "unavailable", reason
        return redacted_json(body, self._redact, status=200 if reason is None else 503)


def _why_not(manager: LLMProviderManager) -> str:
    """``groq: cooldown (available at ...); gemini: ...`` from the status every view shares."""
    providers = manager.get_provider_status()["providers"]
    parts = []
    for name, p in providers.items():
        when = p.get("available_at")
        parts.append(
            f"{name}: {p.get('reason') or p.get('status')}" + (f" until {when}" if when else "")
        )
    return "; ".join(parts)
