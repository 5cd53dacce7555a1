"""The ``llmswitch`` command: serve, status, ask, usage, reset, check, setup, simulate, demo.

Heavy or optional imports (FastAPI, uvicorn, the manager, httpx) happen inside each command, so
``llmswitch --help`` answers at once and the core library never imports the server stack.
Every command that reads configuration takes ``--config`` (else ``$LLMSWITCH_CONFIG``, else
``./llmswitch.toml``, else the built-in catalog) and the keys from the environment and ``.env``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import httpx

    from llmswitch._config import ApiKey, ProviderSettings, Settings
    from llmswitch._manager import LLMProviderManager

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Keep LLM calls flowing across providers: gateway, status and tools.",
)
console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help="llmswitch.toml to read.")]


def _manager(config: str | None) -> LLMProviderManager:
    from llmswitch._errors import ConfigError
    from llmswitch._manager import LLMProviderManager

    try:
        return LLMProviderManager.from_config(config)
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8888,
    config: ConfigOpt = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    insecure: Annotated[
        bool, typer.Option(help="Allow a non-loopback host without LLMSWITCH_API_KEY.")
    ] = False,
    header_timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds for a request's headers to arrive (408).")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds for a request's body to arrive (408).")
    ] = 30.0,
    keep_alive_timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds an idle keep-alive connection stays open.")
    ] = 5.0,
    max_connections: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Open client connections before 503 (default: half the open-file limit).",
        ),
    ] = None,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, help="Largest request body in MiB (413).")
    ] = 20.0,
) -> None:
    """Run the OpenAI-compatible gateway, status API, metrics and dashboard."""
    from llmswitch._errors import ConfigError
    from llmswitch.server.limits import MiB, ServerLimits
    from llmswitch.server.run import serve as run_serve

    limits = ServerLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        keep_alive_timeout=keep_alive_timeout,
        max_body_bytes=int(max_body_mb * MiB),
        **({"max_connections": max_connections} if max_connections else {}),
    )

    console.print(
        f"llmswitch gateway: http://{host}:{port}/v1  dashboard: http://{host}:{port}/",
        soft_wrap=True,
        highlight=False,
    )
    try:
        run_serve(
            lambda: _manager(config),
            host=host,
            port=port,
            workers=workers,
            insecure=insecure,
            config=config,
            limits=limits,
        )
    except ConfigError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc


def _status_from_gateway(url: str) -> dict[str, Any] | None:
    import httpx

    headers = {}
    if os.environ.get("LLMSWITCH_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['LLMSWITCH_API_KEY']}"
    try:
        r = httpx.get(url.rstrip("/") + "/api/llm-providers", headers=headers, timeout=2.0)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


@app.command()
def status(
    config: ConfigOpt = None,
    url: Annotated[str, typer.Option(help="A running gateway to ask first.")] = (
        "http://127.0.0.1:8888"
    ),
) -> None:
    """Show each provider's status, from a running gateway or else from the state store."""
    data = _status_from_gateway(url)
    source = f"gateway {url}"
    if data is None:
        with _manager(config) as manager:
            data = manager.get_provider_status()
        source = "state store"
    console.print(status_table(data, source))


def status_table(data: dict[str, Any], source: str) -> Table:
    table = Table(title=f"llmswitch providers ({source})")
    for col in ("provider", "status", "prio", "req/min", "tokens/day", "cooldown", "cost today"):
        table.add_column(col, no_wrap=True)
    table.add_column("last error", overflow="fold")
    styles = {
        "available": "green",
        "rate_limited": "yellow",
        "cooling_down": "red",
        "auth_failed": "red",
        "unavailable": "dim",
        "degraded": "red",
    }
    state = data.get("state") or {}
    if state:
        where = state.get("server") or state.get("path") or ""
        mode = "failing open" if state.get("fail_open") else "failing closed"
        health = (
            "ok" if state.get("ok") else f"[red]DEGRADED[/] ({mode}): {state.get('detail', '')}"
        )
        table.caption = f"state: {state.get('backend')} {where} · {health}"
    for name, p in data["providers"].items():
        w = p.get("windows", {})
        error = p.get("last_error") or {}
        table.add_row(
            ("* " if p.get("is_current") else "") + name,
            f"[{styles.get(p['status'], 'white')}]{p['status']}[/]",
            str(p["priority"]),
            _window(w.get("rpm")),
            _window(w.get("tpd") or w.get("rpd")),
            f"{p['cooldown_remaining_s']:.0f} s" if p.get("cooldown_remaining_s") else "",
            f"${p.get('cost_today_usd', 0):.4f}",
            f"{error.get('kind', '')}: {error.get('message', '')}" if error else "",
        )
    return table


def _window(w: dict[str, Any] | None) -> str:
    return f"{w['used']:,}/{w['limit']:,}" if w else "-"


@app.command()
def ask(
    prompt: Annotated[str, typer.Argument(help="What to ask.")],
    model: Annotated[str | None, typer.Option(help="auto, an alias or provider/model.")] = None,
    provider: Annotated[str | None, typer.Option(help="Try this provider first.")] = None,
    system: Annotated[str | None, typer.Option(help="A system prompt.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reply as OpenAI chat-completion JSON.")
    ] = False,
    stream: Annotated[bool, typer.Option("--stream", help="Print the reply as it comes.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Ask once; print the reply exactly as given (never re-wrapped); on stderr who served it."""
    from llmswitch._errors import LLMSwitchError

    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    with _manager(config) as manager:
        try:
            if stream and not as_json:
                result = _stream_reply(manager, messages, model, provider)
            else:
                result = manager.chat(messages, model=model, provider_name=provider)
                _write(_json_reply(result) if as_json else result.text)
        except LLMSwitchError as exc:
            err.print(f"[red]{exc}[/]", highlight=False)
            raise typer.Exit(1) from exc
    tried = ", ".join(f"{a.provider}:{a.outcome}" for a in result.attempts)
    err.print(
        f"[dim]served by {result.provider}/{result.model} in {result.latency_s:.2f} s, "
        f"{result.usage.total_tokens} tokens, ${result.cost_usd:.6f} (attempts: {tried})[/]",
        highlight=False,
    )


def _write(text: str, *, end: str = "\n") -> None:
    """Raw stdout: rich would wrap at 80 columns when piped and corrupt JSON or code."""
    import sys

    sys.stdout.write(text + end)
    sys.stdout.flush()


def _stream_reply(
    manager: LLMProviderManager,
    messages: list[dict[str, Any]],
    model: str | None,
    provider: str | None,
) -> Any:
    result = None
    for chunk in manager.stream(messages, model=model, provider_name=provider):
        if chunk.text:
            _write(chunk.text, end="")
        if chunk.result is not None:
            result = chunk.result
    _write("")
    if result is None:
        from llmswitch._errors import MalformedReply

        raise MalformedReply("the stream ended without its result")
    return result


def _json_reply(result: Any) -> str:
    """The reply as the gateway would send it: the provider's own chat-completion JSON (tool
    calls, every choice) when it has one, ``model`` as ``provider/model``, usage with cost.
    Built here, not by the server's shapes: the CLI must work without the server extra."""
    import json

    usage = {
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "total_tokens": result.usage.total_tokens,
        "cost": round(result.cost_usd, 10),
    }
    body = dict(result.raw or {})
    if not isinstance(body.get("choices"), list) or not body["choices"]:
        message = {"role": "assistant", "content": result.text}
        body = {
            "choices": [{"index": 0, "message": message, "finish_reason": result.finish_reason}]
        }
    body = {"object": "chat.completion", **body, "model": result.target}
    body["usage"] = {**(body.get("usage") or {}), **usage}
    return json.dumps(body, ensure_ascii=False, indent=2)


@app.command()
def usage(
    period: Annotated[str, typer.Option(help="today, yesterday, week, month or all.")] = "today",
    config: ConfigOpt = None,
) -> None:
    """Tokens and cost by provider and day."""
    with _manager(config) as manager:
        try:
            data = manager.get_usage(period)
        except ValueError as exc:
            err.print(f"[red]{exc}[/]", highlight=False)
            raise typer.Exit(2) from exc
    table = Table(title=f"usage: {period}")
    for col in ("day", "provider", "requests", "ok", "failed", "tokens in", "tokens out", "cost"):
        table.add_column(col, justify="left" if col in ("day", "provider") else "right")
    for row in data["days"]:
        table.add_row(
            row["day"],
            row["provider"],
            str(row["requests"]),
            str(row["succeeded"]),
            str(row["failed"]),
            f"{row['prompt_tokens']:,}",
            f"{row['completion_tokens']:,}",
            f"${row['cost_usd']:.4f}",
        )
    console.print(table)
    console.print(
        f"total cost: ${data['total_cost_usd']:.4f} · saved by free tiers: "
        f"${data['savings_usd']:.6f} (their tokens at each model's list price)"
    )


@app.command()
def reset(
    target: Annotated[
        str,
        typer.Argument(help="PROVIDER (its circuit, its keys' and its models') or PROVIDER/MODEL."),
    ],
    config: ConfigOpt = None,
) -> None:
    """Close circuits by hand, e.g. after a provider's outage is over, instead of waiting out
    the cooldown. Rate-limit windows and blocks stay: a provider's 429 still holds."""
    from llmswitch._errors import ConfigError, StorageError

    with _manager(config) as manager:
        try:
            cleared = manager.reset_circuit(target)
        except ConfigError as exc:
            err.print(f"[red]{exc}[/]", highlight=False)
            raise typer.Exit(2) from exc
        except StorageError as exc:
            err.print(f"[red]nothing cleared: {exc}[/]", highlight=False)
            raise typer.Exit(1) from exc
    console.print(f"closed {len(cleared)} circuit(s) of {target}:", highlight=False)
    for scope in cleared:
        console.print(f"  {scope}", highlight=False, markup=False)


@app.command()
def check(config: ConfigOpt = None) -> None:
    """Validate each configured key against the provider's model listing (never a completion)."""
    with _manager(config) as manager:
        results = check_keys(manager.settings)
    table = Table(title="key check")
    for col in ("provider", "key", "result", "detail"):
        table.add_column(col, overflow="fold")
    for r in results:
        style = "green" if r.ok else "red" if r.result != "no key" else "dim"
        table.add_row(r.provider, r.key, f"[{style}]{r.result}[/]", r.detail)
    console.print(table)
    if not any(r.ok for r in results):
        err.print("[red]no working key: set one of the keys above (or run llmswitch setup)[/]")
        raise typer.Exit(1)
    if any(not r.ok and r.result != "no key" for r in results):
        raise typer.Exit(1)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """One key's check: ``key`` is masked; ``result`` is what the table shows."""

    provider: str
    key: str
    ok: bool
    result: str
    detail: str = ""


def check_keys(settings: Settings, client: httpx.Client | None = None) -> list[KeyCheck]:
    """Ask each provider's free listing endpoint whether each key is accepted.

    A model listing (OpenRouter: ``/key``, which also reports credit) costs nothing and proves
    the key, where a completion would spend quota or money.
    """
    import httpx

    own = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        out: list[KeyCheck] = []
        for p in settings.providers:
            if not p.keys:
                out.append(KeyCheck(p.name, "-", False, "no key", f"set {p.api_key_env[0]}"))
            out += [_check_key(http, p, key) for key in p.keys]
        return out
    finally:
        if own:
            http.close()


def _listing(p: ProviderSettings, secret: str) -> tuple[str, dict[str, str]]:
    base = p.base_url.rstrip("/")
    if p.api == "gemini":
        return f"{base}/v1beta/models", {"x-goog-api-key": secret}
    headers = {**p.headers, "Authorization": f"Bearer {secret}"}
    if p.name == "openrouter" or p.limit_headers == "openrouter":
        return f"{base}/key", headers
    return f"{base}/models", headers


def _check_key(http: httpx.Client, p: ProviderSettings, key: ApiKey) -> KeyCheck:
    import httpx

    url, headers = _listing(p, key.secret_value())
    try:
        r = http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return KeyCheck(p.name, key.masked, False, "unreachable", type(exc).__name__)
    if r.status_code in (401, 403):
        return KeyCheck(p.name, key.masked, False, "invalid key", f"HTTP {r.status_code}")
    if r.status_code == 429:
        return KeyCheck(p.name, key.masked, True, "valid", "rate limited right now")
    if r.status_code != 200:
        return KeyCheck(p.name, key.masked, False, f"HTTP {r.status_code}", r.reason_phrase)
    return KeyCheck(p.name, key.masked, True, "valid", _listing_detail(p, r))


def _listing_detail(p: ProviderSettings, r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return "unexpected reply"
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):  # OpenRouter's /key
        tier = "free tier" if data.get("is_free_tier") else "paid"
        return f"{tier}; credit used ${data.get('usage', 0)}, limit {data.get('limit')}"
    if isinstance(body, list):  # Together lists its models as a bare array
        listed: Any = body
    elif isinstance(data, list):  # {"object": "list", "data": [...]}: OpenAI, Groq, ...
        listed = data
    elif isinstance(body, dict) and isinstance(body.get("models"), list):  # Gemini native
        listed = body["models"]
    else:
        return "unexpected listing shape"
    ids = {
        str(m.get("id") or m.get("name", "")).removeprefix("models/")
        for m in listed
        if isinstance(m, dict)
    }
    has_default = "default model listed" if p.default_model in ids else "default model not listed"
    return f"{len(ids)} models; {has_default}"


@app.command()
def setup(
    env_file: Annotated[Path, typer.Option("--env-file", help="The .env to write.")] = Path(".env"),
    groq: Annotated[str | None, typer.Option(help="Groq key (non-interactive).")] = None,
    gemini: Annotated[str | None, typer.Option(help="Gemini key.")] = None,
    openrouter: Annotated[str | None, typer.Option(help="OpenRouter key.")] = None,
    together: Annotated[str | None, typer.Option(help="Together key.")] = None,
    openai: Annotated[str | None, typer.Option(help="OpenAI key.")] = None,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never prompt; use only the flags.")
    ] = False,
) -> None:
    """Ask for each provider key (not echoed) and write them to .env with mode 0600.

    Other lines of an existing .env are kept; LLM_PROVIDER=multi and LLM_MODEL=auto are set.
    """
    import getpass

    from llmswitch import _envfile as envfile

    flags = {
        "groq": groq,
        "gemini": gemini,
        "openrouter": openrouter,
        "together": together,
        "openai": openai,
    }
    variables = envfile.key_variables()
    given = {variables[name]: value for name, value in flags.items() if value}
    keys = given if (given or no_input) else envfile.prompt_for_keys(getpass.getpass)
    try:
        envfile.update_env_file(env_file, {**keys, "LLM_PROVIDER": "multi", "LLM_MODEL": "auto"})
    except ValueError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    names = ", ".join(sorted(keys)) or "no key"
    console.print(
        f"wrote {env_file} (mode 0600): {names}; LLM_PROVIDER=multi, LLM_MODEL=auto",
        highlight=False,
    )


@app.command()
def simulate(
    port: Annotated[int, typer.Option(help="TCP port.")] = 9999,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Simulator TOML (limits, faults).")
    ] = None,
) -> None:
    """Run the offline provider simulator and print the llmswitch.toml that points at it."""
    from llmswitch.simulator.runner import serve_forever

    serve_forever(host=host, port=port, config=config)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Gateway port (a free one if taken).")] = 8888,
    exit_: Annotated[bool, typer.Option("--exit", help="Stop after the scenarios.")] = False,
) -> None:
    """Play the three failover scenarios on simulated providers, then serve the dashboard."""
    from llmswitch._demo import run_demo

    raise typer.Exit(run_demo(port=port, exit_at_end=exit_))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("llmswitch")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        typer.echo(f"llmswitch {number}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Keep LLM calls flowing across providers: gateway, status and tools."""


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
