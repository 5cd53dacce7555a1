"""Every backend keeps the texts it is given without the secrets it was told about (and the guard
tells both of its stores)."""

from __future__ import annotations

from llmswitch._clock import FakeClock
from llmswitch._state.base import Store
from llmswitch._state.guarded import GuardedStore, guard

KEY = "tgp_v1_cnry2Wq6Er0Ty4Ui8TOGE"
SCOPE = "together:TOGETHER_API_KEY"
T0 = 1_780_000_000.0


def test_last_errors_and_block_reasons_are_kept_redacted(store: Store) -> None:
    store.add_secrets([KEY])
    echo = f"bad key {KEY[:9]}****{KEY[-4:]} / {KEY}"
    store.block(SCOPE, until=T0 + 60, reason=echo)
    records = [
        store.trip(SCOPE, until=T0 + 60, kind="server_error", message=echo, now=T0),
        store.note_error(SCOPE, kind="rate_limited", message=echo, now=T0),
        store.mark_auth_failed(SCOPE, fingerprint="f", message=echo, now=T0),
        store.get_health(SCOPE),
    ]
    block = store.get_block(SCOPE, now=T0)
    texts = [block.reason if block else "", *(r.last_error_message or "" for r in records if r)]
    assert texts == ["bad key …TOGE / …TOGE"] * 5


def test_guard_passes_the_secrets_to_the_real_and_the_local_store(store: Store) -> None:
    guarded = guard(store, fail_open=True, clock=FakeClock(T0), secrets=[KEY])
    stores = [guarded.primary, guarded.local] if isinstance(guarded, GuardedStore) else [guarded]
    for s in stores:
        s.note_error(SCOPE, kind="rate_limited", message=KEY, now=T0)
        record = s.get_health(SCOPE)
        assert record is not None and record.last_error_message == "…TOGE"
