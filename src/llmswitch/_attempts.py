"""The rooms one call's attempts go through, built once per manager and shared by its calls.

``Call`` (``_call.py``) decides; these carry its decisions out against the state store:

- ``admission`` (``_admission.py``): may a candidate be sent; reserve its quota;
- ``settlement`` (``_settlement.py``): settle the reservation to the real usage, write the
  ledger, keep the limits the provider reported;
- ``outage`` (``_outage.py``): put a key, a model or a provider out of service as the verdict
  says;
- ``policies`` (``_policies.py``): each provider's breaker and retries.

Nothing here does network I/O or reads the real time except for latency.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmswitch._admission import Admission
from llmswitch._clock import Clock
from llmswitch._config import Settings
from llmswitch._events import Sink
from llmswitch._outage import Outage
from llmswitch._patience import FreeWaiters
from llmswitch._policies import ProviderPolicies
from llmswitch._secrets import SecretRedactor
from llmswitch._settlement import Settlement
from llmswitch._state.base import Store
from llmswitch._strategies import LatencyTracker


class AttemptCore:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock,
        sinks: Sequence[Sink] = (),
        latency: LatencyTracker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.latency = latency or LatencyTracker()
        #: (provider, model) pairs seen refusing an assistant prefill (a 400 to a continuation)
        self.no_prefill: set[tuple[str, str]] = set()
        self.policies = ProviderPolicies(settings)
        self.admission = Admission(settings, store, self.policies, clock=clock, sinks=sinks)
        self.settlement = Settlement(store, clock=clock, latency=self.latency, sinks=sinks)
        self.outage = Outage(store, self.policies, clock=clock, sinks=sinks)
        #: masks the configured key values in every error text a provider sends back
        self.redact = SecretRedactor(k.secret_value() for p in settings.providers for k in p.keys)
        #: calls waiting for a free slot, first come first served (``_patience``)
        self.free_waiters = FreeWaiters()
        self._sinks = tuple(sinks)

    @property
    def sinks(self) -> tuple[Sink, ...]:
        return self._sinks

    @sinks.setter
    def sinks(self, sinks: Sequence[Sink]) -> None:
        """Every room hears the same sinks (a sink added to the manager later reaches all)."""
        self._sinks = tuple(sinks)
        for room in (self.admission, self.settlement, self.outage):
            room.sinks = self._sinks
