"""The redactor's rules: whole values anywhere, fragments beside a mask, nothing else; the log
filter on every llmswitch logger."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from llmswitch._secrets import LOGGERS, SecretRedactor, log_redaction, masked

KEY = "gsk_cnryQ7x2V9mZ4pL8wK3jG1NARY"
ODD = "zk8-live-cnry9Hg3Fd7Sa1Jk5Lz0OPAI"  # a shape no rule knows
SRC = Path(__file__).resolve().parents[2] / "src" / "llmswitch"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"Invalid key {KEY}.", "Invalid key …NARY.", id="whole"),
        pytest.param(f"url?key={ODD}&x=1", "url?key=…OPAI&x=1", id="whole-odd-shape"),
        pytest.param(
            f"Incorrect API key provided: {KEY[:8]}{'*' * 18}{KEY[-4:]}. You can",
            "Incorrect API key provided: …NARY. You can",
            id="openai-mask",
        ),
        pytest.param("gsk_cnry****NARY", "…NARY", id="issue-partial"),
        pytest.param(f"key {ODD[:12]}... revoked", "key …OPAI revoked", id="head-dots"),
        pytest.param(f"key …{KEY[-8:]} bad", "key …NARY bad", id="tail-ellipsis"),
        pytest.param(f"k=gsk_••••{KEY[8:14]}••••", "k=…NARY", id="middle-between-masks"),
        pytest.param("ends in NARY, Q7x2 alone", "ends in NARY, Q7x2 alone", id="no-mask-kept"),
        pytest.param("wait... ****", "wait... ****", id="masks-of-nothing"),
        pytest.param("abc****xyz", "abc****xyz", id="short-runs-kept"),
    ],
)
def test_rules(text: str, expected: str) -> None:
    assert SecretRedactor([KEY, ODD])(text) == expected


def test_values_add_up_and_short_values_match_only_beside_a_mask() -> None:
    redact = SecretRedactor()
    assert redact(KEY) == KEY
    redact.add([KEY])
    assert redact(KEY) == "…NARY"
    redact.add(["short1"])
    assert redact("short1 stays") == "short1 stays"  # too short for a whole-value rule
    assert redact("shor***") == "****"  # masked() of a value under 12 characters
    assert masked("short1") == "****" and masked(KEY) == "…NARY"
    assert "cnry" not in repr(redact)


def test_a_long_body_costs_one_pass() -> None:
    redact = SecretRedactor([KEY, ODD])
    body = ("A" * 60 + "*") * 3000 + "B" * 200_000
    started = time.perf_counter()
    redact(body)
    assert time.perf_counter() - started < 0.5


def test_log_lines_and_tracebacks_are_redacted_on_every_llmswitch_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    log_redaction([ODD])
    for name in LOGGERS:
        logging.getLogger(name).warning("echo %s and %s", ODD, f"{ODD[:8]}****{ODD[-4:]}")
        try:
            raise RuntimeError(f"upstream said {ODD}")
        except RuntimeError:
            logging.getLogger(name).exception("failed")
    assert len(caplog.records) == 2 * len(LOGGERS)
    assert "cnry9" not in caplog.text and "…OPAI" in caplog.text
    assert "RuntimeError: upstream said …OPAI" in caplog.text


def test_the_filter_covers_every_logger_the_source_names() -> None:
    named = set()
    for path in SRC.rglob("*.py"):
        if "simulator" in path.parts:
            continue  # the simulator is the providers' side: it never sees our keys' texts
        named |= set(re.findall(r"getLogger\(\"([^\"]+)\"\)", path.read_text(encoding="utf-8")))
    assert named and named <= set(LOGGERS)
