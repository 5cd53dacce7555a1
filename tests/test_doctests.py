"""Every example in a docstring runs and says what it shows (``doctest``), so an example
cannot drift from the code it documents. Examples that need the network or a running server
say ``# doctest: +SKIP``."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import llmswitch

PACKAGE = Path(llmswitch.__file__).parent
MODULES = sorted(
    ".".join(("llmswitch", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py"  # running it is what it is for
)


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_of(name: str) -> None:
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert failed == 0, f"{name}: {failed} example(s) failed (run pytest --doctest-modules)"
