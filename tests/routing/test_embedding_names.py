"""The embeddings decisions of ``_embeddings``, as tables: which targets an embed call may reach
(and so fail over to), what each embedding model can honour, what ``input`` may be, and that
chat and embed never reach each other's models. Pure: settings from a TOML text, no call."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch._capabilities import Need
from llmswitch._config import EmbeddingModel, Settings, load_settings
from llmswitch._embeddings import EmbeddingNames, embed_request, explain, narrowed, unmet
from llmswitch._errors import ConfigError
from llmswitch._health import Act, Target, Verdict
from llmswitch._names import Names
from llmswitch._planning import Planner
from llmswitch._types import EmbedRequest

ALL_KEYS = {
    "GROQ_API_KEY": "gsk_k",
    "GEMINI_API_KEY": "AIza_k",
    "OPENROUTER_API_KEY": "sk-or-k",
    "TOGETHER_API_KEY": "tgp_k",
    "OPENAI_API_KEY": "sk-k",
}

GROUPS = """
[models.vectors]
targets = ["openai/text-embedding-3-large", "gemini/gemini-embedding-001"]

[models.smart]
targets = ["groq/openai/gpt-oss-120b"]

[providers.local]
base_url = "http://127.0.0.1:11434/v1"
models = ["llama3"]
embedding_models = ["nomic-embed-text"]
api_key = "none"
"""


def settings(tmp_path: Path, toml: str = GROUPS, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "llmswitch.toml"
    path.write_text(toml)
    return load_settings(path, env=ALL_KEYS if env is None else env, dotenv=None)


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        # one model at every provider serving it: OpenRouter resells OpenAI's 3-small
        ("text-embedding-3-small", [("openrouter", "openai/text-embedding-3-small"),
                                    ("openai", "text-embedding-3-small")]),
        # OpenRouter's own id names the same model, so it reaches OpenAI's copy too
        ("openai/text-embedding-3-small", [("openrouter", "openai/text-embedding-3-small"),
                                           ("openai", "text-embedding-3-small")]),
        # a model only one provider serves stays there: no failover to another model
        ("gemini-embedding-001", [("gemini", "gemini-embedding-001")]),
        ("models/gemini-embedding-001", [("gemini", "gemini-embedding-001")]),
        ("text-embedding-3-large", [("openai", "text-embedding-3-large")]),
        ("intfloat/multilingual-e5-large-instruct",
         [("together", "intfloat/multilingual-e5-large-instruct")]),
        # auto: the first embedding model of the first provider with a key (Gemini's), alone
        (None, [("gemini", "gemini-embedding-001")]),
        ("auto", [("gemini", "gemini-embedding-001")]),
        # a group may list several models: the caller's explicit choice
        ("vectors", [("openai", "text-embedding-3-large"), ("gemini", "gemini-embedding-001")]),
        # pinned: that provider only
        ("openrouter/openai/text-embedding-3-small",
         [("openrouter", "openai/text-embedding-3-small")]),
        ("openai/text-embedding-new", [("openai", "text-embedding-new")]),  # passed through
        # a provider of llmswitch.toml declares its own
        ("nomic-embed-text", [("local", "nomic-embed-text")]),
    ],
)  # fmt: skip
def test_what_an_embedding_name_reaches(
    tmp_path: Path, name: str | None, targets: list[tuple[str, str]]
) -> None:
    segments = EmbeddingNames(settings(tmp_path)).resolve(name)
    assert [t for seg in segments for t in seg.targets] == targets


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gpt-4o-mini", "'gpt-4o-mini' is a chat model, not an embedding model"),
        ("groq/openai/gpt-oss-120b", "is a chat model"),
        ("smart", "model group 'smart' reaches chat models (groq/openai/gpt-oss-120b)"),
        ("text-embedding-004", "no configured provider serves embedding model"),  # retired
    ],
)
def test_names_an_embed_call_refuses_list_the_embedding_models(
    tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        EmbeddingNames(settings(tmp_path)).resolve(name)
    assert message in str(info.value)
    assert "embedding models: gemini-embedding-001," in str(info.value)
    assert "text-embedding-3-small" in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["text-embedding-3-small", "openai/text-embedding-3-large", "vectors", "nomic-embed-text"],
)
def test_chat_never_reaches_an_embedding_model(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        Names(settings(tmp_path)).resolve(name)
    assert "POST /v1/embeddings" in str(info.value)


def test_auto_chat_and_auto_embed_each_stay_in_their_kind(tmp_path: Path) -> None:
    s = settings(tmp_path)
    chat = [m for seg in Names(s).resolve(None) for _, m in seg.targets]
    assert not any("embed" in m for m in chat)
    planner = Planner(s, names=EmbeddingNames(s))
    assert {c.model for c in planner.plan(None)} == {"gemini-embedding-001"}


def test_without_a_gemini_key_auto_embed_takes_the_next_provider_in_priority(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in ALL_KEYS.items() if k != "GEMINI_API_KEY"}
    segments = EmbeddingNames(settings(tmp_path, env=env)).resolve(None)
    assert segments[0].name == "text-embedding-3-small"  # OpenRouter's copy of OpenAI's model


def test_with_no_embedding_provider_keyed_auto_embed_says_which_keys_serve(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY, GEMINI_API_KEY"):
        EmbeddingNames(settings(tmp_path, "", env={"GROQ_API_KEY": "gsk_k"})).resolve(None)


def test_a_group_mixing_chat_and_embedding_models_is_refused_at_load(tmp_path: Path) -> None:
    toml = '[models.mixed]\ntargets = ["openai/gpt-4o-mini", "openai/text-embedding-3-small"]\n'
    with pytest.raises(ConfigError, match=r"models\.mixed\.targets.*mixes chat and embedding"):
        settings(tmp_path, toml)


def test_a_group_may_not_be_named_like_an_embedding_model(tmp_path: Path) -> None:
    toml = '[models."text-embedding-3-small"]\ntargets = ["openai/text-embedding-3-large"]\n'
    with pytest.raises(ConfigError, match="a group named like a model"):
        settings(tmp_path, toml)


def test_catalog_embedding_prices_reach_the_settings(tmp_path: Path) -> None:
    s = settings(tmp_path, "")
    assert s.provider("openai").price("text-embedding-3-small") == (0.02, 0.0)
    assert s.provider("openai").price("text-embedding-3-large") == (0.13, 0.0)
    assert s.provider("gemini").price("gemini-embedding-001") == (0.15, 0.0)
    assert s.provider("openai").models == ("gpt-4o-mini", "gpt-4.1-mini")  # chat only
    assert list(s.provider("groq").embedding_models) == []  # Groq serves none


OPENAI_3 = EmbeddingModel(dimensions=1536, token_input=True, max_inputs=2048)
ADA = EmbeddingModel(dimensions=1536, shortens=False, token_input=True, max_inputs=2048)
GEMINI = EmbeddingModel(dimensions=3072, token_input=False, max_inputs=100)
E5 = EmbeddingModel(dimensions=1024, shortens=False, token_input=False)


def req(
    inputs: tuple[str | tuple[int, ...], ...] = ("a",), dims: int | None = None
) -> EmbedRequest:
    return EmbedRequest(inputs, "m", dims)


@pytest.mark.parametrize(
    ("info", "request_", "need"),
    [
        (OPENAI_3, req(), None),
        (OPENAI_3, req(dims=256), None),
        (OPENAI_3, req(dims=2000), Need("at_most_1536_dimensions", "dimensions")),
        (ADA, req(dims=256), Need("shorter_vectors", "dimensions")),
        (E5, req(dims=256), Need("shorter_vectors", "dimensions")),
        (OPENAI_3, req(((1, 2, 3),)), None),
        (GEMINI, req(((1, 2, 3),)), Need("token_arrays", "input")),
        (GEMINI, req(("x",) * 100), None),
        (GEMINI, req(("x",) * 101), Need("at_most_100_inputs", "input")),
        (OPENAI_3, req(("x",) * 2049), Need("at_most_2048_inputs", "input")),
        (EmbeddingModel(), req(((1,),), dims=9999), None),  # declared nothing: refuses nothing
        (None, req(((1,),), dims=9999), None),  # an id passed through
    ],
)
def test_what_an_embedding_model_can_honour(
    info: EmbeddingModel | None, request_: EmbedRequest, need: Need | None
) -> None:
    assert unmet(info, request_) == need


def test_the_400_when_none_can_names_the_models_that_could(tmp_path: Path) -> None:
    why = explain(Need("token_arrays", "input"), req(((1, 2),)), settings(tmp_path, ""))
    assert why.startswith("'input' needs token arrays")
    assert "models that can: openai/text-embedding-3-small, openai/text-embedding-3-large" in why


@pytest.mark.parametrize(
    ("given", "inputs"),
    [
        ("hello", ("hello",)),
        (["a", "b"], ("a", "b")),
        ([1, 2, 3], ((1, 2, 3),)),
        ([[1, 2], [3]], ((1, 2), (3,))),
    ],
)
def test_input_shapes_accepted(given: object, inputs: tuple[object, ...]) -> None:
    assert embed_request(given, None, {}, request_id="r").inputs == inputs


@pytest.mark.parametrize("given", [[], "", ["a", 1], [[1], "a"], [["a"]], None, 3, [True], [""]])
def test_input_shapes_refused_name_what_input_may_be(given: object) -> None:
    with pytest.raises(ConfigError, match="input"):
        embed_request(given, None, {}, request_id="r")


@pytest.mark.parametrize("dims", [0, -1, True, "256", 1.5])
def test_dimensions_must_be_a_positive_integer(dims: object) -> None:
    with pytest.raises(ConfigError, match="dimensions must be an integer >= 1"):
        embed_request("a", None, {"dimensions": dims}, request_id="r")


@pytest.mark.parametrize(
    ("target", "narrowed_to"),
    [
        (Target.KEY_BLOCK, Target.MODEL),  # a 429 of the embedding model's own limit
        (Target.KEY_DAY, Target.MODEL),  # its daily quota (Gemini's embed_content_*) spent
        (Target.KEY_AUTH, Target.KEY_AUTH),  # a refused key is refused for chat too
        (Target.MODEL, Target.MODEL),
        (Target.PROVIDER, Target.PROVIDER),
    ],
)
def test_an_embed_failure_never_blocks_the_key_chat_shares(
    target: Target, narrowed_to: Target
) -> None:
    out = narrowed(Verdict(Act.FAIL_OVER, target, 1.5))
    assert out == Verdict(Act.FAIL_OVER, narrowed_to, 1.5)
