"""The tool guide the model gets in LLM mode: one entry per implemented tool, listing only keys the code reads."""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from engine.connectors import params as params_module
from engine.connectors.params import to_epoch
from engine.llm.tool_guide import TOOL_GUIDE, describe_tool
from engine.registry import _IMPLEMENTATIONS, load_connectors

MAX_ENTRY_CHARS = 600
_ITEM = re.compile(r"^(?P<key>[a-z_]+) \((?P<notes>[^()]*(?:\([^()]*\)[^()]*)*)\)$")
TIME_KEYS = ("start", "end", "time", "timestamp")


def _implementations() -> dict[str, Any]:
    load_connectors()
    return dict(_IMPLEMENTATIONS)


def _parts(entry: str) -> tuple[str, str, str]:
    lines = entry.split("\n")
    assert len(lines) == 3, entry
    returns, params_line, example_line = lines
    assert params_line.startswith("params: "), params_line
    assert example_line.startswith("example: "), example_line
    return returns, params_line.removeprefix("params: "), example_line.removeprefix("example: ")


def _items(entry: str) -> dict[str, str]:
    """``key -> notes`` from the entry's ``params:`` line (``key (notes); key (notes)`` or ``none``)."""
    _, listed, _ = _parts(entry)
    if listed == "none":
        return {}
    items: dict[str, str] = {}
    for item in listed.split("; "):
        match = _ITEM.match(item)
        assert match is not None, f"not 'key (notes)': {item!r}"
        assert match["key"] not in items, f"{match['key']} listed twice"
        items[match["key"]] = match["notes"]
    return items


def _example(entry: str) -> Any:
    return json.loads(_parts(entry)[2])


def _sources_for(module: ModuleType) -> str:
    """The implementation module's source, params.py's, and that of every connector helper the module imports
    (``prometheus.query_result`` for grafana_query, ``loki.records_to_result`` for the CloudWatch logs, ...)."""
    modules = {module, params_module}
    for value in vars(module).values():
        if inspect.isfunction(value) and value.__module__.startswith("engine.connectors."):
            modules.add(sys.modules[value.__module__])
    return "\n".join(Path(inspect.getfile(m)).read_text() for m in modules)


def test_every_implemented_tool_has_a_guide_entry_and_no_entry_names_an_unimplemented_tool() -> None:
    implemented = set(_implementations())
    assert implemented - set(TOOL_GUIDE) == set(), "implemented tools without a guide entry"
    assert set(TOOL_GUIDE) - implemented == set(), "guide entries for tools that are not implemented"


def test_every_entry_is_a_sentence_then_a_params_line_then_an_example_line() -> None:
    for name, entry in TOOL_GUIDE.items():
        returns, _, _ = _parts(entry)
        assert returns.endswith("."), name
        assert "params:" not in returns, name
        _items(entry)  # every item has the "key (notes)" shape


def test_every_entry_stays_short() -> None:
    too_long = {name: len(entry) for name, entry in TOOL_GUIDE.items() if len(entry) > MAX_ENTRY_CHARS}
    assert too_long == {}


def test_every_listed_param_key_is_read_by_the_tools_implementation_module_or_its_helpers() -> None:
    implementations = _implementations()
    invented: dict[str, list[str]] = {}
    for name, entry in TOOL_GUIDE.items():
        source = _sources_for(inspect.getmodule(implementations[name].func) or params_module)
        missing = [key for key in _items(entry) if f'"{key}"' not in source]
        if missing:
            invented[name] = missing
    assert invented == {}


def test_every_example_is_a_json_object_using_only_listed_keys() -> None:
    for name, entry in TOOL_GUIDE.items():
        example = _example(entry)
        assert isinstance(example, dict), name
        assert set(example) <= set(_items(entry)), f"{name}: example uses keys its params line does not list"


def test_every_example_gives_the_keys_its_entry_marks_required() -> None:
    for name, entry in TOOL_GUIDE.items():
        required = {key for key, notes in _items(entry).items() if "required" in notes.split(", ")}
        assert required <= set(_example(entry)), name


def test_every_time_in_an_example_is_one_the_tools_accept() -> None:
    for entry in TOOL_GUIDE.values():
        example = _example(entry)
        for key in TIME_KEYS:
            if key in example:
                to_epoch(example[key])  # raises ToolFailure on a time the tools refuse


@pytest.mark.parametrize(
    ("name", "fallback", "expected_start"),
    [
        ("describe_pod", "", "Returns one pod's phase"),
        ("no_such_tool", "The no_such_tool tool", "The no_such_tool tool"),
        ("think", "", ""),
    ],
)
def test_describe_tool_returns_the_guide_entry_else_the_fallback(name: str, fallback: str, expected_start: str) -> None:
    described = describe_tool(name, fallback)
    assert described.startswith(expected_start)
    if name in TOOL_GUIDE:
        assert described == TOOL_GUIDE[name]
    else:
        assert described == fallback
