"""A throwaway ``redis-server`` of a test's own, to stop and start without touching the shared
one on 6379. With ``persistent=True`` it keeps an append-only file, fsynced on every write, so a
restart comes back with the same data, as a production Redis configured for it would."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """``redis-server`` on a free loopback port; no persistence unless asked."""

    def __init__(self, *, persistent: bool = False) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not on PATH")
        self.port = free_port()
        self.persistent = persistent
        self.dir = tempfile.mkdtemp(prefix="llmswitch-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        aof = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        cmd = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--dir",
            self.dir,
            *aof,
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_until_up()

    def wait_until_up(self, timeout: float = 10.0) -> None:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        try:
            while True:  # waiting for a process to listen, not for simulated time
                try:
                    client.ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    pass
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
