"""The failure verdict and the breaker's timing as pure decision tables (no store, no socket)."""

from __future__ import annotations

import pytest

from llmswitch._health import (
    Act,
    BreakerPolicy,
    HealthRecord,
    RetryPolicy,
    Target,
    assess_circuit,
    backoff,
    open_seconds,
    verdict,
)
from llmswitch._types import FailureKind as K

NO_RETRY = RetryPolicy()
TWO = RetryPolicy(retries=2, backoff_seconds=0.5)
TWO_T = RetryPolicy(retries=2, backoff_seconds=0.5, retry_timeouts=True)


def half(*_: object) -> float:
    return 0.5


@pytest.mark.parametrize(
    ("kind", "policy", "done", "retry_after", "act", "target"),
    [
        # the seed's defaults: no retry, fail over at once; what is put out depends on the kind
        (K.SERVER_ERROR, NO_RETRY, 0, None, Act.FAIL_OVER, Target.MODEL),
        (K.TIMEOUT, NO_RETRY, 0, None, Act.FAIL_OVER, Target.MODEL),
        (K.MALFORMED_REPLY, NO_RETRY, 0, None, Act.FAIL_OVER, Target.MODEL),
        (K.CONNECTION, NO_RETRY, 0, None, Act.FAIL_OVER, Target.PROVIDER),
        (K.RATE_LIMITED, NO_RETRY, 0, 10.0, Act.FAIL_OVER, Target.KEY_BLOCK),
        (K.QUOTA_EXHAUSTED, NO_RETRY, 0, None, Act.FAIL_OVER, Target.KEY_DAY),
        (K.AUTH_FAILED, NO_RETRY, 0, None, Act.FAIL_OVER, Target.KEY_AUTH),
        (K.BAD_REQUEST, NO_RETRY, 0, None, Act.FAIL, Target.NONE),
        (K.CONTENT_FILTER, NO_RETRY, 0, None, Act.FAIL, Target.NONE),
        (K.CONTEXT_TOO_LONG, NO_RETRY, 0, None, Act.LARGER_CONTEXT, Target.NONE),
        # retries: server errors, connection failures and malformed replies, while any are left
        (K.SERVER_ERROR, TWO, 0, None, Act.RETRY, Target.NONE),
        (K.SERVER_ERROR, TWO, 1, None, Act.RETRY, Target.NONE),
        (K.SERVER_ERROR, TWO, 2, None, Act.FAIL_OVER, Target.MODEL),
        (K.CONNECTION, TWO, 0, None, Act.RETRY, Target.NONE),
        (K.MALFORMED_REPLY, TWO, 0, None, Act.RETRY, Target.NONE),
        # a timeout already cost a full timeout: retried only when asked
        (K.TIMEOUT, TWO, 0, None, Act.FAIL_OVER, Target.MODEL),
        (K.TIMEOUT, TWO_T, 0, None, Act.RETRY, Target.NONE),
        # a short Retry-After is honoured; a long one means fail over
        (K.SERVER_ERROR, TWO, 0, 3.0, Act.RETRY, Target.NONE),
        (K.SERVER_ERROR, TWO, 0, 30.0, Act.FAIL_OVER, Target.MODEL),
        # never retried: rate limits, auth, bad requests
        (K.RATE_LIMITED, TWO, 0, 1.0, Act.FAIL_OVER, Target.KEY_BLOCK),
        (K.AUTH_FAILED, TWO, 0, None, Act.FAIL_OVER, Target.KEY_AUTH),
        (K.BAD_REQUEST, TWO, 0, None, Act.FAIL, Target.NONE),
    ],
)
def test_verdict_table(
    kind: K,
    policy: RetryPolicy,
    done: int,
    retry_after: float | None,
    act: Act,
    target: Target,
) -> None:
    v = verdict(kind, retries_done=done, policy=policy, retry_after=retry_after, rand=half)
    assert (v.act, v.target) == (act, target)


def test_a_retry_waits_the_jittered_backoff_or_the_providers_retry_after() -> None:
    assert verdict(K.SERVER_ERROR, retries_done=0, policy=TWO, rand=half).wait == 0.5 + 0.25
    assert verdict(K.SERVER_ERROR, retries_done=1, policy=TWO, rand=half).wait == 1.0 + 0.25
    v = verdict(K.SERVER_ERROR, retries_done=0, policy=TWO, retry_after=2.0, rand=half)
    assert v.wait == 2.0


def test_a_local_fault_fails_the_call_and_puts_nothing_out() -> None:
    v = verdict(K.CONNECTION, retries_done=0, policy=TWO, local=True)
    assert (v.act, v.target) == (Act.FAIL, Target.NONE)


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(backoff_seconds=1.0, backoff_max_seconds=4.0)
    assert [backoff(n, policy, rand=lambda: 0.0) for n in range(5)] == [1, 2, 4, 4, 4]


SEED = BreakerPolicy()
RESILIENT = BreakerPolicy(cooldown_seconds=300, probe_after_seconds=10, failures_to_trip=1)
PATIENT = BreakerPolicy(cooldown_seconds=300, probe_after_seconds=0, failures_to_trip=3)


@pytest.mark.parametrize(
    ("policy", "failures", "retry_after", "seconds"),
    [
        (SEED, 1, None, 300),  # the seed: one failure, out for the cooldown
        (SEED, 2, None, 300),
        (SEED, 1, 7.0, 7.0),  # the provider's Retry-After wins
        (RESILIENT, 1, None, 10),  # first probe early ...
        (RESILIENT, 2, None, 20),  # ... each failed probe doubles the wait ...
        (RESILIENT, 3, None, 40),
        (RESILIENT, 6, None, 300),  # ... up to the cooldown
        (RESILIENT, 60, None, 300),
        (PATIENT, 1, None, 0),  # below failures_to_trip the circuit stays closed
        (PATIENT, 2, None, 0),
        (PATIENT, 3, None, 300),
    ],
)
def test_breaker_timing(
    policy: BreakerPolicy, failures: int, retry_after: float | None, seconds: float
) -> None:
    assert open_seconds(failures, policy, retry_after) == seconds


@pytest.mark.parametrize(
    ("record", "to_trip", "state"),
    [
        (None, 1, "closed"),
        (HealthRecord(consecutive_failures=1, open_until=200), 1, "open"),
        (HealthRecord(consecutive_failures=1, open_until=50), 1, "half_open"),
        (HealthRecord(consecutive_failures=2, open_until=50), 3, "closed"),
        (HealthRecord(consecutive_failures=3, open_until=200), 3, "open"),
    ],
)
def test_circuit_states(record: HealthRecord | None, to_trip: int, state: str) -> None:
    assert assess_circuit(record, now=100.0, failures_to_trip=to_trip).state == state
