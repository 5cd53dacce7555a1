"""Boundary rows for ``health`` that mutation testing found unpinned: the edges of the breaker's
timing and the circuit-record transitions the stores apply."""

from __future__ import annotations

import pytest

from llmswitch._health import (
    Act,
    BreakerPolicy,
    HealthRecord,
    RetryPolicy,
    Target,
    assess_circuit,
    auth_failed,
    cleared,
    noted,
    open_seconds,
    probe_released,
    succeeded,
    target_of,
    tripped,
    verdict,
)
from llmswitch._types import FailureKind


@pytest.mark.parametrize(
    ("policy", "retry_after", "seconds"),
    [
        (BreakerPolicy(), 1.0, 1.0),  # a one-second Retry-After is honoured
        (BreakerPolicy(), 0.0, 300.0),  # 0 means "no figure": the cooldown
        (BreakerPolicy(probe_after_seconds=1.0), None, 1.0),  # a 1 s first probe is kept
        (BreakerPolicy(probe_after_seconds=300.0), None, 300.0),  # as long as the cooldown
        (BreakerPolicy(cooldown_seconds=60.0, probe_after_seconds=90.0), None, 60.0),
    ],
)
def test_open_seconds_edges(
    policy: BreakerPolicy, retry_after: float | None, seconds: float
) -> None:
    assert open_seconds(1, policy, retry_after) == seconds


def test_a_circuit_is_half_open_at_the_very_end_of_its_cooldown() -> None:
    record = HealthRecord(consecutive_failures=1, open_until=100.0)
    assert assess_circuit(record, now=100.0).state == "half_open"
    assert assess_circuit(record, now=99.9).state == "open"
    assert assess_circuit(
        HealthRecord(consecutive_failures=1, open_until=200.0), now=1.0
    ).state == ("open"), "the default trips on the first failure"


@pytest.mark.parametrize(
    ("retry_after", "act", "wait"),
    [
        (5.0, Act.RETRY, 5.0),  # exactly retry_after_max_seconds: still waited out
        (1.0, Act.RETRY, 1.0),
        (0.0, Act.RETRY, 0.25),  # no figure: the backoff (rand 0)
        (5.5, Act.FAIL_OVER, 0.0),
    ],
)
def test_the_retry_gate_edges(retry_after: float, act: Act, wait: float) -> None:
    got = verdict(
        FailureKind.SERVER_ERROR,
        retries_done=0,
        policy=RetryPolicy(retries=1),
        retry_after=retry_after,
        rand=lambda: 0.0,
    )
    assert (got.act, got.wait) == (act, wait)


@pytest.mark.parametrize("kind", [FailureKind.BAD_REQUEST, FailureKind.CONTEXT_TOO_LONG])
def test_a_kind_without_its_own_target_puts_the_model_out(kind: FailureKind) -> None:
    assert target_of(kind) is Target.MODEL


def test_tripped_counts_a_run_of_failures_and_keeps_its_start() -> None:
    first = tripped(None, until=400.0, kind="server_error", message="503", now=100.0)
    second = tripped(first, until=350.0, kind="timeout", message="slow", now=200.0)
    third = tripped(second, until=900.0, kind="timeout", message="slower", now=300.0)
    assert [r.consecutive_failures for r in (first, second, third)] == [1, 2, 3]
    assert [r.open_until for r in (first, second, third)] == [400.0, 400.0, 900.0]
    assert (third.opened_at, third.opened_by) == (100.0, "server_error")
    assert (third.last_error_kind, third.last_error_message, third.last_error_at) == (
        "timeout",
        "slower",
        300.0,
    )
    assert first.consecutive_failures == 1, "a transition returns a new record"


def test_noted_and_auth_failed_keep_the_rest_of_the_record() -> None:
    base = HealthRecord(open_until=50.0, consecutive_failures=2)
    note = noted(base, kind="rate_limited", message="429", now=7.0)
    assert (note.open_until, note.consecutive_failures, note.last_error_message) == (50.0, 2, "429")
    refused = auth_failed(base, fingerprint="fp1", message="401 bad key", now=8.0)
    assert (refused.open_until, refused.consecutive_failures) == (50.0, 2)
    assert (refused.auth_failed_fingerprint, refused.last_error_kind) == ("fp1", "auth_failed")
    assert (refused.last_error_message, refused.last_error_at) == ("401 bad key", 8.0)


@pytest.mark.parametrize("close", [succeeded, cleared])
def test_a_success_or_a_reset_closes_everything_but_keeps_the_last_error(close: object) -> None:
    rec = tripped(None, until=400.0, kind="server_error", message="503", now=100.0)
    rec.auth_failed_fingerprint, rec.probe_until = "fp", 130.0
    done = close(rec)  # type: ignore[operator]
    assert (done.open_until, done.consecutive_failures, done.probe_until) == (0.0, 0, 0.0)
    assert (done.auth_failed_fingerprint, done.opened_at, done.opened_by) == (None, 0.0, None)
    assert (done.last_error_kind, done.last_error_message) == ("server_error", "503")
    assert rec.consecutive_failures == 1, "the old record is untouched"
    assert succeeded(None) == HealthRecord()


def test_probe_released_frees_only_the_probe_slot() -> None:
    rec = HealthRecord(open_until=10.0, consecutive_failures=1, probe_until=40.0)
    assert probe_released(rec) == HealthRecord(open_until=10.0, consecutive_failures=1)
