"""Smoke runs of issue 17's Redis benchmarks with tiny counts: the ``llmswitch-redis`` contenders
of ``bench.overhead`` and ``bench.gateway_workers`` (one and two workers on the local Redis)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import gateway_workers, overhead
from tests.state.conftest import redis_url  # noqa: F401 - the shared Redis, or skip/fail

pytestmark = pytest.mark.redis


def test_overhead_times_llmswitch_on_redis_beside_the_three_trip_path(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    r = overhead.run(
        rounds=2,
        calls=5,
        warmup=2,
        peers=False,
        out_dir=tmp_path,
        redis_url=redis_url,
        redis_before=True,
        out_name="overhead_redis",
    )
    for name in ("llmswitch-redis", "llmswitch-redis-3trips"):
        assert math.isfinite(r["overhead_us"][name]["median"])
    assert r["redis"] == redis_url
    assert (tmp_path / "overhead_redis.json").exists()


def test_gateway_workers_serves_on_one_redis(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    r = gateway_workers.run(
        runs=1, workers=(1, 2), concurrency=4, total=20, redis_url=redis_url, out_dir=tmp_path
    )
    for name in ("direct", "workers_1", "workers_2"):
        assert r["summary"][name]["errors"] == 0
        assert r["summary"][name]["rps"]["median"] > 0
    assert (tmp_path / "gateway_workers.json").exists()
