"""Smoke runs of bench/soak.py and bench/ledger_year.py: tiny counts, sane figures, no errors."""

from __future__ import annotations

from pathlib import Path

from bench import ledger_year, soak
from tests.state.conftest import redis_unavailable


def test_soak_smoke(tmp_path: Path) -> None:
    backends = ("memory", "sqlite") + (() if redis_unavailable() else ("redis",))
    r = soak.run(calls=300, sample=100, backends=backends, out_dir=tmp_path)
    for name in backends:
        b = r["backends"][name]
        assert b["errors"] == {} and b["ledger_counted"] == 300, name
        assert len(b["samples"]) == 3 and b["rss_mb"]["last"] > 0
    assert (tmp_path / "soak.json").exists()


def test_ledger_year_smoke(tmp_path: Path) -> None:
    r = ledger_year.run(days=1, retention_days=0.25, out_dir=tmp_path)
    assert r["calls"] == 86_400
    assert 6 * 3600 <= r["raw_rows_kept"] <= 7 * 3600, "a quarter day of rows, and an hour"
    assert r["rollup_rows"] == 2 * 8, "8 provider x model x key, on the two UTC days it spans"
