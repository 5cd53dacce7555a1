"""``after_call``: a key's windows once a call is settled, from what its grant counted.

The gateway's x-ratelimit-* headers come from this instead of a read of the store; a table
of the cases a caller would see in those headers.
"""

from __future__ import annotations

import pytest

from llmswitch._quota import after_call, make_window, next_day_start

RPM, TPM = make_window("rpm", 30), make_window("tpm", 6_000)
RPD = make_window("rpd", 1_000, reset="America/Los_Angeles")
AT = 1_780_000_000.0


@pytest.mark.parametrize(
    ("used", "reserved", "settled", "expected"),
    [
        # the grant counted 1,100 reserved tokens; the call used 40: 1,060 fewer are held
        ((3, 1_500), 1_100, 40, [("rpm", 27), ("tpm", 5_560)]),
        # the call used more than it reserved: the window holds the difference too
        ((3, 1_500), 100, 900, [("rpm", 27), ("tpm", 3_700)]),
        # a window at its limit stays at 0 left; never below
        ((30, 6_000), 0, 0, [("rpm", 0), ("tpm", 0)]),
        # a settle can only lower the tokens to what the others hold, never under 0
        ((1, 100), 500, 0, [("rpm", 29), ("tpm", 6_000)]),
    ],
)
def test_what_is_left(
    used: tuple[int, int], reserved: int, settled: int, expected: list[tuple[str, int]]
) -> None:
    got = after_call((RPM, TPM), used, reserved=reserved, settled=settled, at=AT)
    assert [(u.name, u.remaining) for u in got] == expected


def test_when_each_window_is_back_to_full() -> None:
    days: dict[str, float] = {}
    rpm, rpd = after_call((RPM, RPD), (1, 1), reserved=0, settled=0, at=AT, day_ends=days)
    assert rpm.resets_at == AT + RPM.period  # a minute after this call, the newest it holds
    assert rpd.resets_at == next_day_start(AT, "America/Los_Angeles")  # the zone's midnight
    assert days == {"America/Los_Angeles": rpd.resets_at}  # kept for the next call ...
    (again,) = after_call((RPD,), (2,), reserved=0, settled=0, at=AT + 5, day_ends=days)
    assert again.resets_at == rpd.resets_at
    (tomorrow,) = after_call((RPD,), (1,), reserved=0, settled=0, at=rpd.resets_at, day_ends=days)
    assert tomorrow.resets_at == next_day_start(rpd.resets_at, "America/Los_Angeles")  # ... a day


def test_a_key_the_reply_blocked_has_nothing_left_until_the_block_ends() -> None:
    until = AT + 7_200
    got = after_call((RPM, TPM), (2, 80), reserved=0, settled=0, at=AT, blocked_until=until)
    assert [(u.remaining, u.resets_at) for u in got] == [(0, until), (0, until)]
    ended = after_call((RPM,), (2,), reserved=0, settled=0, at=AT, blocked_until=AT - 1)
    assert ended[0].remaining == 28  # a block already over changes nothing
