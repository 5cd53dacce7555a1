"""``store_from_url``: the explicit scheme registry and its error messages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llmswitch._errors import ConfigError
from llmswitch._state import SCHEMES, store_from_url
from llmswitch._state.memory import MemoryStore
from llmswitch._state.sqlite import SqliteStore


def test_memory() -> None:
    assert isinstance(store_from_url("memory://"), MemoryStore)


def test_sqlite_relative_path_creates_parent_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = store_from_url("sqlite:///.llmswitch/nested/state.db")
    assert isinstance(store, SqliteStore)
    assert store.path == Path(".llmswitch/nested/state.db")
    assert (tmp_path / ".llmswitch/nested/state.db").exists()
    store.close()


def test_sqlite_absolute_path(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "state.db"
    store = store_from_url(f"sqlite:///{target}")  # "sqlite:////abs/path"
    assert isinstance(store, SqliteStore) and store.path == target and target.exists()
    assert store.check().extra["journal_mode"] == "wal"
    store.close()


@pytest.mark.parametrize("url", ["sqlite://state.db", "sqlite:///", "sqlite://"])
def test_sqlite_url_needs_three_slashes_and_a_path(url: str) -> None:
    with pytest.raises(ConfigError, match="three slashes"):
        store_from_url(url)


def test_sqlite_unknown_option_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'journal'"):
        store_from_url(f"sqlite:///{tmp_path / 's.db'}?journal=off")


@pytest.mark.parametrize("url", ["postgres://db/x", "state.db", "memcached://h:1", ""])
def test_unknown_scheme_lists_the_valid_ones(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        store_from_url(url)
    for scheme in ("memory://", "sqlite://", "redis://", "rediss://"):
        assert scheme in str(info.value)


def test_registry_is_explicit() -> None:
    assert sorted(SCHEMES) == ["memory", "redis", "rediss", "sqlite"]


def test_missing_redis_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ImportError
    monkeypatch.delitem(sys.modules, "llmswitch._state.redis", raising=False)
    with pytest.raises(ConfigError, match=r"pip install 'llmswitch\[redis\]'") as info:
        store_from_url("redis://:s3cret@127.0.0.1:6379/0")
    assert "s3cret" not in str(info.value)


def test_redis_options_from_query_string_and_keywords() -> None:
    pytest.importorskip("redis")
    from llmswitch._state.redis import RedisStore

    store = store_from_url("redis://127.0.0.1:6379/0?prefix=tenant1:&server_time=true")
    assert isinstance(store, RedisStore)
    assert (store.prefix, store.server_time) == ("tenant1:", True)
    store.close()
    store = store_from_url("rediss://127.0.0.1:6380/1?prefix=tenant1:", prefix="tenant2:")
    assert isinstance(store, RedisStore) and store.prefix == "tenant2:"
    store.close()


def test_redis_default_prefix() -> None:
    pytest.importorskip("redis")
    from llmswitch._state.redis import RedisStore

    store = store_from_url("redis://127.0.0.1:6379/0")
    assert isinstance(store, RedisStore) and store.prefix == "llmswitch:"
    store.close()


def test_unknown_constructor_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="colour"):
        store_from_url("memory://", colour="blue")
