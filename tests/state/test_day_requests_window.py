"""A day window of requests reads the requests that a token window of the same day counted.

The status reports "requests today" in a provider's own day even when the provider declares
its day in tokens only (Gemini: 15M tokens per Pacific day, no request count published): it
reads a request window of that same day, which every store answers from the totals it keeps
for the day (requests beside tokens), on every backend.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from llmswitch._quota import make_window
from llmswitch._state.base import Store

SCOPE = "gemini:GEMINI_API_KEY"
PACIFIC = "America/Los_Angeles"


def test_a_request_window_reads_the_day_a_token_window_counted(store: Store) -> None:
    tpd = make_window("tpd", 15_000_000, reset=PACIFIC)
    rpd = make_window("rpd", 1, reset=PACIFIC)  # only read, never reserved against
    evening = datetime(2026, 6, 1, 16, 30, tzinfo=ZoneInfo(PACIFIC)).timestamp()  # 23:30 UTC
    for i in range(3):
        assert store.reserve(SCOPE, (tpd,), 100, now=evening + i).ok
    after_utc_midnight = evening + 3600  # 00:30 UTC the next day, 17:30 Pacific the same day
    used = {u.name: u.used for u in store.usage(SCOPE, (tpd, rpd), now=after_utc_midnight)}
    assert used == {"tpd": 300, "rpd": 3}
    next_pacific_day = evening + 8 * 3600  # 00:30 Pacific
    used = {u.name: u.used for u in store.usage(SCOPE, (tpd, rpd), now=next_pacific_day)}
    assert used == {"tpd": 0, "rpd": 0}
