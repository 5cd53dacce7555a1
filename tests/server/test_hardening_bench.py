"""Smoke runs of the hardening benchmarks (``bench/slow_clients.py``, ``bench/gateway_soak.py``)
with tiny counts: they run against a real ``llmswitch serve`` and report sane figures."""

from __future__ import annotations

from pathlib import Path

from bench import gateway_soak, slow_clients


def test_slow_clients_smoke(tmp_path: Path) -> None:
    r = slow_clients.run(
        label="smoke",
        src=None,
        clients=20,
        attack_s=2.0,
        after_calls=3,
        short=3,
        body_wait_s=0.5,
        big_mb=1,
        out_dir=tmp_path,
    )
    attack = r["slowloris"]
    assert attack["slow_clients"]["connected"] >= 20
    assert attack["calls_during"] == {"200": 2}
    assert attack["calls_after"] == {"200": 3}
    assert set(attack["providers_after"].values()) == {"available"}
    assert sum(r["short_bodies"]["outcomes"].values()) == 3
    assert r["big_body"]["status"] == "200"  # 1 MB is under the 20 MiB default
    assert (tmp_path / "slow_clients-smoke.json").exists()


def test_gateway_soak_smoke(tmp_path: Path) -> None:
    r = gateway_soak.run(total=200, concurrency=8, every=50, out_dir=tmp_path)
    assert r["errors"] == 0 and r["rps"] > 0
    assert [n for n, _ in r["rss_mb"]] == [0, 50, 100, 150, 200]
    assert 0 < r["rss_end_mb"] < 1000
    assert (tmp_path / "gateway_soak.json").exists()
