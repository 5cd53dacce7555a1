"""The ``[alerts]`` table: defaults, values read, and a ConfigError naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch import AlertSettings
from llmswitch._config import load_settings
from llmswitch._errors import ConfigError

ALERT_KEYS = (
    "thresholds, minute_sustain_seconds, check_interval_seconds, budget_threshold, webhook_url, "
    "webhook_timeout_seconds, webhook_retries, recent_limit"
)
THRESHOLDS = "expected a non-empty list of fractions in (0, 1], such as [0.8, 0.95]"
URL = "expected an http:// or https:// URL with a host"

BAD_ALERTS: list[tuple[str, str]] = [
    ("thresholds = []", f"alerts.thresholds: {THRESHOLDS}"),
    ("thresholds = [0.8, 1.5]", f"alerts.thresholds: {THRESHOLDS}"),
    ("thresholds = [0]", f"alerts.thresholds: {THRESHOLDS}"),
    ('thresholds = "80%"', f"alerts.thresholds: {THRESHOLDS}"),
    (
        "minute_sustain_seconds = -1",
        "alerts.minute_sustain_seconds: got -1; expected a number of seconds >= 0 (0: alert on "
        "per-minute windows at once)",
    ),
    (
        "check_interval_seconds = -5",
        "alerts.check_interval_seconds: got -5; expected a number of seconds >= 0 between two "
        "usage checks of one key",
    ),
    ("budget_threshold = 2", "alerts.budget_threshold: got 2; expected a number in (0, 1]"),
    ('webhook_url = "ftp://hooks.example.com/x"', f"alerts.webhook_url: {URL}"),
    ('webhook_url = "https://"', f"alerts.webhook_url: {URL}"),
    ('webhook_url = "https://hooks.example.com/a b"', f"alerts.webhook_url: {URL}"),
    (
        "webhook_timeout_seconds = 0",
        "alerts.webhook_timeout_seconds: got 0; expected a number of seconds > 0",
    ),
    ("webhook_retries = -1", "alerts.webhook_retries: got -1; expected an integer from 0 to 10"),
    ("webhook_retries = 1.5", "alerts.webhook_retries: got 1.5; expected an integer from 0 to 10"),
    ("recent_limit = 0", "alerts.recent_limit: got 0; expected an integer from 1 to 1000"),
    (
        "threshold = 0.8",
        f"alerts.threshold: unknown key (did you mean thresholds?); valid keys: {ALERT_KEYS}",
    ),
]


def _load(tmp_path: Path, text: str) -> AlertSettings:
    path = tmp_path / "llmswitch.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return load_settings(path, env={}, dotenv=None).alerts


def test_defaults_without_a_table() -> None:
    alerts = load_settings(env={}, dotenv=None).alerts
    assert alerts == AlertSettings()
    assert (alerts.thresholds, alerts.minute_sustain_seconds, alerts.check_interval_seconds) == (
        (0.8, 0.95),
        60.0,
        5.0,
    )
    assert (alerts.budget_threshold, alerts.webhook_url, alerts.webhook_timeout_seconds) == (
        0.8,
        None,
        2.0,
    )
    assert (alerts.webhook_retries, alerts.recent_limit) == (3, 50)


def test_values_are_read_and_thresholds_sorted(tmp_path: Path) -> None:
    alerts = _load(
        tmp_path,
        "[alerts]\nthresholds = [0.95, 0.5, 0.8, 0.8]\nminute_sustain_seconds = 0\n"
        'check_interval_seconds = 1\nbudget_threshold = 0.5\nwebhook_url = "https://hooks.'
        'example.com/T000/B000/tok3n?x=1"\nwebhook_timeout_seconds = 0.5\nwebhook_retries = 0\n'
        "recent_limit = 10",
    )
    assert alerts.thresholds == (0.5, 0.8, 0.95)
    assert alerts.minute_sustain_seconds == 0 and alerts.check_interval_seconds == 1
    assert alerts.budget_threshold == 0.5 and alerts.recent_limit == 10
    assert alerts.webhook_retries == 0 and alerts.webhook_timeout_seconds == 0.5
    assert alerts.webhook_url is not None
    assert alerts.webhook_url.get_secret_value().endswith("/tok3n?x=1")
    assert "tok3n" not in repr(alerts) and "tok3n" not in str(alerts)


@pytest.mark.parametrize(("text", "message"), BAD_ALERTS, ids=[t for t, _ in BAD_ALERTS])
def test_bad_alert_settings_name_the_key_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, "[alerts]\n" + text)
    assert str(info.value) == f"{tmp_path / 'llmswitch.toml'}: {message}"


def test_a_bad_webhook_url_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, '[alerts]\nwebhook_url = "gopher://user:s3cret@hooks.example.com/x"')
    assert "s3cret" not in str(info.value)


def test_alerts_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, "alerts = 5")
    assert str(info.value).endswith("alerts: got 5; expected a table of alert settings")
