"""Reading the answer-shaping fields of a native Gemini request, and refusing them as Google does.

``tools[].functionDeclarations`` (``parameters`` or ``parametersJsonSchema``),
``toolConfig.functionCallingConfig`` (``AUTO`` | ``ANY`` | ``NONE`` | ``VALIDATED``, with
``allowedFunctionNames``), ``generationConfig.responseMimeType`` with ``responseSchema`` **or**
``responseJsonSchema`` (both: a 400), ``stopSequences`` and ``candidateCount`` become one
``Shape``. A ``functionResponse`` must carry the ``name`` of a ``functionCall`` made earlier in
``contents`` and an object ``response``; the simulator refuses it otherwise (the reference says
the name is required and must match; the exact wording of Google's refusal is our choice).
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator.answers import Shape

MODES = ("AUTO", "ANY", "NONE", "VALIDATED")
CANDIDATES_REFUSED = "Multiple candidates is not enabled for this model"


def native_shape(body: dict[str, Any], max_candidates: int) -> Shape | str:
    """The ``Shape`` of a ``generateContent`` body, or Google's INVALID_ARGUMENT text."""
    shape = Shape()
    for tool in body.get("tools") or []:
        for decl in (tool or {}).get("functionDeclarations") or []:
            if not isinstance(decl, dict) or not isinstance(decl.get("name"), str):
                return "* GenerateContentRequest.tools.function_declarations.name: required."
            params = decl.get("parametersJsonSchema", decl.get("parameters"))
            shape.tools.append({"name": decl["name"], "parameters": params})
    problem = _tool_config(shape, body.get("toolConfig")) or _config(
        shape, body.get("generationConfig") or {}, max_candidates
    )
    if problem is not None:
        return problem
    problem = _function_responses(body.get("contents") or [])
    if problem is not None:
        return problem
    contents = body.get("contents") or []
    last = contents[-1] if contents and isinstance(contents[-1], dict) else {}
    shape.after_tool_result = any(
        isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or []
    )
    return shape


def _tool_config(shape: Shape, raw: Any) -> str | None:
    config = (raw or {}).get("functionCallingConfig") if isinstance(raw, dict) else None
    if not isinstance(config, dict):
        return None
    mode = config.get("mode", "AUTO")
    if mode not in MODES:
        return (
            f"Invalid value at 'tool_config.function_calling_config.mode' ({mode!r}); "
            f"expected one of {', '.join(MODES)}"
        )
    allowed = config.get("allowedFunctionNames") or []
    shape.tool_choice = {"AUTO": "auto", "NONE": "none", "ANY": "required"}.get(mode, "auto")
    if allowed:
        if mode not in ("ANY", "VALIDATED"):
            return (
                "* GenerateContentRequest.tool_config.function_calling_config."
                "allowed_function_names: may only be set when mode is ANY or VALIDATED."
            )
        unknown = [n for n in allowed if all(t["name"] != n for t in shape.tools)]
        if unknown:
            return f"* allowed_function_names: {unknown[0]!r} is not a declared function."
        shape.named = allowed[0]
    return None


def _config(shape: Shape, config: Any, max_candidates: int) -> str | None:
    if not isinstance(config, dict):
        return None
    if "responseSchema" in config and "responseJsonSchema" in config:
        return (
            "* GenerateContentRequest.generation_config.response_schema: response_schema and "
            "response_json_schema cannot both be set."
        )
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema", config.get("responseSchema"))
        if isinstance(schema, dict):
            shape.json_schema = schema
        else:
            shape.json_object = True
    stops = config.get("stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        return "Invalid value at 'generation_config.stop_sequences'"
    shape.stop = stops
    count = config.get("candidateCount", 1)
    if not isinstance(count, int) or count < 1:
        return f"Invalid value at 'generation_config.candidate_count' ({count!r})"
    if count > max_candidates:
        return CANDIDATES_REFUSED
    shape.n = count
    return None


def _function_responses(contents: list[Any]) -> str | None:
    called: set[str] = set()
    for i, item in enumerate(contents):
        parts = item.get("parts") if isinstance(item, dict) else None
        for j, part in enumerate(parts or []):
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("functionCall"), dict):
                called.add(str(part["functionCall"].get("name")))
            response = part.get("functionResponse")
            if response is None:
                continue
            where = f"* GenerateContentRequest.contents[{i}].parts[{j}].function_response"
            if not isinstance(response, dict) or response.get("name") not in called:
                name = response.get("name") if isinstance(response, dict) else None
                return (
                    f"{where}.name: {name!r} does not match the name of any function call in "
                    "the conversation."
                )
            if not isinstance(response.get("response"), dict):
                return f"{where}.response: must be a JSON object."
    return None
