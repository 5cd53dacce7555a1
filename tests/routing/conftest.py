"""Routing tests reuse the glue factory: a real manager from a real ``llmswitch.toml`` over the
simulator on a shared ``FakeClock``."""

from tests.glue.conftest import glue  # noqa: F401  (a fixture, used by name)
