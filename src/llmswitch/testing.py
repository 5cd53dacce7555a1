"""Public helpers for testing code that uses llmswitch: a fake clock and a live simulator.

``simulator()`` runs the offline provider simulator on a free 127.0.0.1 port in a background
thread, on a ``FakeClock`` by default, so a test can live through a minute or a day by advancing
the clock instead of sleeping. Leaving the ``with`` block stops the server and its thread, even
with a request still hanging. It needs the server extra (``pip install 'llmswitch[server]'``);
``FakeClock`` does not, so ``from llmswitch.testing import FakeClock`` works on the core alone.

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
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmswitch._clock import FakeClock
from llmswitch._transport import SERVER_EXTRA

if TYPE_CHECKING:
    from llmswitch.simulator.runner import SimulatorHandle, SimulatorServer

__all__ = ["FakeClock", "SimulatorHandle", "simulator"]


def _runner() -> tuple[type[SimulatorHandle], type[SimulatorServer]]:
    """The simulator's server side, imported on use: it needs uvicorn and starlette."""
    try:
        from llmswitch.simulator.runner import SimulatorHandle, SimulatorServer
    except ImportError as exc:
        raise ImportError(
            f"llmswitch.testing.simulator() serves over uvicorn and starlette, which are not "
            f"installed ({exc}): {SERVER_EXTRA}. FakeClock works without them."
        ) from exc
    return SimulatorHandle, SimulatorServer


def __getattr__(name: str) -> Any:
    if name == "SimulatorHandle":  # lazily, so ``from llmswitch.testing import FakeClock`` works
        return _runner()[0]  # without the server extra
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def simulator(
    *, clock: FakeClock | None = None, config: dict[str, Any] | str | Path | None = None
) -> AbstractContextManager[SimulatorHandle]:
    """Run the provider simulator for the duration of a ``with`` block.

    Args:
        clock: the clock the simulator's windows and schedules read; a new ``FakeClock`` if None.
            Share it with the code under test so both live on the same simulated time.
        config: a dict or a TOML path in the format of ``examples/simulator.toml``; None for the
            built-in defaults.

    Returns:
        A context manager yielding a ``SimulatorHandle`` with the base URLs and the fault, limit
        and stats controls.

    Raises:
        ImportError: the server extra is missing (``pip install 'llmswitch[server]'``).
    """
    handle_cls, server_cls = _runner()
    return _serve(handle_cls, server_cls, clock=clock, config=config)


@contextmanager
def _serve(
    handle_cls: type[SimulatorHandle],
    server_cls: type[SimulatorServer],
    *,
    clock: FakeClock | None,
    config: dict[str, Any] | str | Path | None,
) -> Iterator[SimulatorHandle]:
    from llmswitch.simulator.state import Simulator

    fake = clock if clock is not None else FakeClock()
    sim = Simulator(clock=fake, config=config)
    server = server_cls(sim)
    server.start()
    try:
        handle = handle_cls(sim, server.base_url)
        handle.clock = fake
        yield handle
    finally:
        server.stop()
