"""Smoke runs of every benchmark in bench/: they run and produce sane figures (never speed).

Our side runs with tiny counts in the main .venv; the LiteLLM side needs .venv-bench
(``bash bench/setup.sh``) and is skipped here with that reason when litellm is missing.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import _common as c
from bench import failover, gateway, overhead, quota, report, scale


def finite(value: float) -> bool:
    return isinstance(value, float | int) and math.isfinite(value)


def test_overhead_smoke(tmp_path: Path) -> None:
    r = overhead.run(rounds=2, calls=5, warmup=2, peers=False, out_dir=tmp_path)
    assert set(r["latency_us"]) == {"httpx", "llmswitch-memory", "llmswitch-sqlite"}
    assert all(s["median"] > 0 for s in r["latency_us"].values())
    assert all(finite(s["median"]) for s in r["overhead_us"].values())
    assert (tmp_path / "overhead.json").exists()


def test_gateway_smoke(tmp_path: Path) -> None:
    r = gateway.run(
        rounds=1, calls=5, warmup=2, concurrency=8, total=40, peers=False, out_dir=tmp_path
    )
    for name in ("direct", "llmswitch"):
        t = r["throughput"][name]
        assert t["errors"] == 0 and t["rps"] > 0 and 0 < t["p50_ms"] <= t["p99_ms"]
    assert 0 < r["rss_mb"]["llmswitch"] < 1000
    assert 0 < r["throughput"]["llmswitch"]["cpu_us_per_request"] < 1e6
    assert finite(r["sequential"]["overhead_us"]["llmswitch"]["median"])


def test_quota_smoke_one_process_on_simulated_time() -> None:
    from llmswitch.testing import FakeClock, simulator

    clock = FakeClock()
    with simulator(clock=clock) as sim:
        r = quota.ours_single(
            sim.base_url, requests=100, threads=16, clock=clock, sleep=clock.sleep
        )
    assert r["errors"] == {}
    assert r["upstream_429"] == {"groq": 0, "gemini": 0}
    assert sum(r["served"].values()) == 100


def test_quota_smoke_four_processes_share_sqlite(tmp_path: Path) -> None:
    from llmswitch.testing import FakeClock, simulator

    with simulator(clock=FakeClock()) as sim:  # 40 requests: no window has to free
        r = quota.multi_process(
            quota._ours_worker,
            sim.base_url,
            (f"sqlite:///{tmp_path / 'shared.db'}", 0.0),
            requests=40,
            threads=2,
        )
    assert r["errors"] == {}
    assert r["upstream_429"] == {"groq": 0, "gemini": 0}
    assert r["served"] == {"groq": 30, "gemini": 10}


def test_failover_smoke(tmp_path: Path) -> None:
    r = failover.run(rounds=1, calls=5, peers=False, stream_calls=3, out_dir=tmp_path)
    assert all(finite(a["median"]) for a in r["latency"]["added_us"].values())
    for mode in ("fail500", "hang"):
        cd = r["cooldown"][f"llmswitch-{mode}"]
        assert cd["first_failure"] == 1
        assert cd["during_cooldown"] == 0
        assert cd["after_cooldown_burst"] == 1, "one probe, the other calls go to the fallback"
    assert r["cooldown"]["llmswitch-fail429"]["during_cooldown"] == 0
    cs = r["continued_stream"]
    n = cs["calls"] + cs["calls_with_setting"]
    assert cs["one_uninterrupted_answer"] == cs["attempts_cut_then_continued"] == f"{n} of {n}"
    for trail in cs["attempt_trails"]:  # the cut attempt, Gemini skipped, the continuing one
        assert trail[0][0] == "groq" and trail[0][1] != "ok"
        assert ("gemini", "cannot_continue", False) in trail
        assert trail[-1] == ("openrouter", "ok", True)
    assert finite(cs["cut_to_first_continued_chunk_us"]["p50"])
    assert cs["sample"]["text"].startswith(cs["sample"]["cut_part"])


def test_scale_smoke(tmp_path: Path) -> None:
    r = scale.run(rounds=1, calls=3, sizes=(1, 3), ledger_sizes=(0, 1000), out_dir=tmp_path)
    for series in ("providers_us", "keys_us", "ledger_us"):
        assert all(finite(s["median"]) for s in r[series].values())
    assert set(r["ledger_us"]) == {"0", "1000"}


def test_report_renders_every_section(tmp_path: Path) -> None:
    overhead.run(rounds=1, calls=3, warmup=1, peers=False, out_dir=tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# prose\n\n{report.START}\nold\n{report.END}\n\nmore prose\n")
    section = report.main(tmp_path, readme)
    text = readme.read_text()
    assert text.startswith("# prose") and text.endswith("more prose\n") and "old" not in text
    assert "llmswitch-memory" in section and "_not run yet_" in section


@pytest.mark.skipif(c.peers_missing_reason() is not None, reason=c.peers_missing_reason() or "")
def test_litellm_router_smoke(tmp_path: Path) -> None:
    r = overhead.run(rounds=1, calls=3, warmup=1, peers=True, out_dir=tmp_path)
    assert r["latency_us"]["litellm-router"]["median"] > 0


def test_gateway_inprocess_smoke(tmp_path: Path) -> None:
    from bench import gateway_inprocess

    r = gateway_inprocess.run(rounds=1, calls=20, out_dir=tmp_path)
    memory, sqlite = r["us_per_request"]["memory"], r["us_per_request"]["sqlite"]
    assert set(memory) == {"app", "achat", "server"}
    assert set(sqlite) == {"app", "achat", "server", "app_offloaded"}
    assert all(s["median"] > 0 for s in (memory["app"], sqlite["app"], sqlite["app_offloaded"]))
    assert (tmp_path / "gateway_inprocess.json").exists()


def test_mypyc_trial_times_a_tree_and_names_real_modules() -> None:
    from bench import mypyc_trial

    missing = [m for m in mypyc_trial.MODULES if not (c.ROOT / f"src/llmswitch/{m}.py").exists()]
    assert missing == []
    assert 0 < mypyc_trial.timed(c.ROOT / "src", 200) < 100_000  # µs per call, source tree


def test_call_split_smoke(tmp_path: Path) -> None:
    from bench import call_split

    r = call_split.run(rounds=2, calls=5, out_dir=tmp_path)["us_per_call"]
    assert set(r) == {"httpx", "transport", "llmswitch", "send_in_call", "own_cold", "own_hot"}
    assert 0 < r["send_in_call"]["median"] < r["llmswitch"]["median"]
    assert r["own_hot"]["median"] > 0
