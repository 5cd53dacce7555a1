"""A canary key never shows in a repr, a str, a dump or a ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch._config import load_settings
from llmswitch._errors import ConfigError

CANARY = "gsk_CANARY_0123456789abcdef"


def test_canary_absent_from_reprs_and_dumps() -> None:
    settings = load_settings(
        env={"GROQ_API_KEY": CANARY, "GROQ_API_KEY_2": CANARY + "2"}, dotenv=None
    )
    groq = settings.provider("groq")
    key = groq.keys[0]
    assert key.secret_value() == CANARY
    texts = [repr(settings), str(settings), repr(groq), str(groq), repr(key), str(key),
             repr(groq.keys), key.masked, key.fingerprint, settings.model_dump_json(),
             str(settings.model_dump())]  # fmt: skip
    for text in texts:
        assert "CANARY" not in text


@pytest.mark.parametrize(
    "text",
    [
        f'[providers.groq]\napi_key = ["{CANARY}"]',
        f'[providers.groq]\napi_key = {{ k = "{CANARY}" }}',
        f'[providers.groq]\ngroq_api_key = "{CANARY}"',
        f'[providers.groq]\nheaders = {{ Authorization = ["{CANARY}"] }}',
        f'[providers.groq]\nmodels = "{CANARY}"',
        f'[providers.groq]\nbase_url = "{CANARY}"',
        f'[llmswitch]\nstrategy = "{CANARY}"',
        f'[llmswitch]\nstate = "{CANARY}"',
        f'[providers.groq]\nday_resets = "{CANARY}"',
        f'[providers.groq]\napi_key_env = "{CANARY}!"',
        f'[providers.groq]\napi_key = "{CANARY}"\nrequests_per_minute = -1',
    ],
)
def test_canary_absent_from_config_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "llmswitch.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"GROQ_API_KEY": CANARY}, dotenv=None)
    chain: list[BaseException] = [info.value]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    for error in chain:  # the ConfigError and whatever it was raised from
        assert "CANARY" not in str(error) and "CANARY" not in repr(error)


def test_canary_absent_from_env_errors() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"LLM_PROVIDER": CANARY}, dotenv=None)
    assert "CANARY" not in str(info.value).upper()
