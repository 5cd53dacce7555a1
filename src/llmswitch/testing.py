"""Public helpers for testing code that uses llmswitch: a fake clock and a live simulator.

``simulator()`` runs the offline provider simulator on a free 127.0.0.1 port in a background
thread, on a ``FakeClock`` by default, so a test can live through a minute or a day by advancing
the clock instead of sleeping. Leaving the ``with`` block stops the server and its thread, even
with a request still hanging.

Example:
    >>> import openai                                               # doctest: +SKIP
    >>> with simulator() as sim:                                    # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=sim.provider_base_url("groq"),
    ...                            api_key="gsk_test_1", max_retries=0)
    ...     client.chat.completions.create(model="openai/gpt-oss-120b",
    ...                                    messages=[{"role": "user", "content": "hi"}])
    ...     sim.clock.advance(60.0)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from llmswitch.clock import FakeClock
from llmswitch.simulator.runner import SimulatorHandle, SimulatorServer
from llmswitch.simulator.state import Simulator

__all__ = ["FakeClock", "SimulatorHandle", "simulator"]


@contextmanager
def simulator(
    *, clock: FakeClock | None = None, config: dict[str, Any] | str | Path | None = None
) -> Iterator[SimulatorHandle]:
    """Run the provider simulator for the duration of a ``with`` block.

    Args:
        clock: the clock the simulator's windows and schedules read; a new ``FakeClock`` if None.
            Share it with the code under test so both live on the same simulated time.
        config: a dict or a TOML path in the format of ``examples/simulator.toml``; None for the
            built-in defaults.

    Yields:
        A ``SimulatorHandle`` with the base URLs and the fault, limit and stats controls.
    """
    fake = clock if clock is not None else FakeClock()
    sim = Simulator(clock=fake, config=config)
    server = SimulatorServer(sim)
    server.start()
    try:
        handle = SimulatorHandle(sim, server.base_url)
        handle.clock = fake
        yield handle
    finally:
        server.stop()
