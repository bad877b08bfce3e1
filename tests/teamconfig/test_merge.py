"""The pure merge module: no database, property-based where a property exists."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import teamconfig.merge as merge_module
from teamconfig.merge import (
    apply_merge_patch,
    flatten_leaves,
    leaf_diff,
    merge_layers,
    merge_two,
    same_json,
)

KEYS = st.sampled_from(["a", "b", "c", "d"])
SCALARS = st.one_of(st.booleans(), st.integers(-5, 5), st.text(max_size=3))
LEAVES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))

# Any stored document: no nulls anywhere, no empty objects, kinds may differ between documents.
STORED = st.recursive(
    LEAVES,
    lambda children: st.dictionaries(KEYS, children, min_size=1, max_size=3),
    max_leaves=8,
).filter(lambda v: isinstance(v, dict))

# Patches: like documents, but any value may be null (a deletion) and objects may be empty.
PATCH_VALUES = st.recursive(
    st.one_of(st.none(), LEAVES),
    lambda children: st.dictionaries(KEYS, children, max_size=3),
    max_leaves=8,
)
PATCHES = st.dictionaries(KEYS, PATCH_VALUES, max_size=4)


def _shaped(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Documents where a key's kind is fixed by its name (x/y leaves, a/b objects), as the schema does."""
    leaves = st.dictionaries(st.sampled_from(["x", "y"]), SCALARS | st.lists(SCALARS, max_size=2), max_size=2)
    if depth == 0:
        return leaves
    objects = st.dictionaries(st.sampled_from(["a", "b"]), _shaped(depth - 1), max_size=2)
    return st.builds(lambda left, right: {**left, **right}, leaves, objects)


SHAPED = _shaped(2)


def _non_null_leaves(patch: dict[str, Any]) -> dict[str, Any]:
    return {
        path: value
        for path, value in flatten_leaves(patch).items()
        if value is not None and not (isinstance(value, dict) and not value)
    }


def _null_paths(patch: dict[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for key, value in patch.items():
        path = f"{prefix}.{key}" if prefix else key
        if value is None:
            paths.append(path)
        elif isinstance(value, dict):
            paths.extend(_null_paths(value, path))
    return paths


def _holds_null_or_empty_object(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return not value or any(_holds_null_or_empty_object(v) for v in value.values())
    return False


@given(SHAPED, SHAPED, SHAPED)
def test_merging_is_associative_over_schema_shaped_layers(first: dict, second: dict, third: dict) -> None:
    assert merge_two(merge_two(first, second), third) == merge_two(first, merge_two(second, third))


@given(st.lists(SHAPED, min_size=1, max_size=5), st.integers(0, 5))
def test_a_chain_may_be_folded_from_any_split_point(chain: list[dict], split: int) -> None:
    split = min(split, len(chain))
    head, tail = chain[:split], chain[split:]
    assert merge_layers(chain) == merge_two(merge_layers(head), merge_layers(tail))


def test_a_later_scalar_replaces_an_object_and_a_later_object_does_not_revive_it() -> None:
    # Why the chain is folded root first: a group replacing an object with a scalar hides the root's keys.
    root, group, team = (
        {"llm": {"provider": "openai", "model": "gpt"}},
        {"llm": "off"},
        {"llm": {"model": "x"}},
    )
    assert merge_layers([root, group, team]) == {"llm": {"model": "x"}}


def test_arrays_replace_and_never_concatenate() -> None:
    org, team = {"alerts": {"disabled": ["Watchdog", "InfoInhibitor"]}}, {"alerts": {"disabled": ["TargetDown"]}}
    assert merge_layers([org, team]) == {"alerts": {"disabled": ["TargetDown"]}}


def test_objects_merge_recursively_so_a_new_key_keeps_its_siblings() -> None:
    org = {"knowledge_source": {"confluence": ["https://wiki"]}}
    team = {"knowledge_source": {"google": ["doc-1"]}}
    assert merge_layers([org, team]) == {"knowledge_source": {"confluence": ["https://wiki"], "google": ["doc-1"]}}


def test_merging_does_not_mutate_its_inputs() -> None:
    base, overlay = {"a": {"x": [1]}}, {"a": {"y": 2}}
    merged = merge_layers([base, overlay])
    merged["a"]["x"].append(5)
    assert base == {"a": {"x": [1]}}
    assert overlay == {"a": {"y": 2}}


@given(STORED, PATCHES)
def test_applying_a_patch_then_reading_back_gives_the_patch_values(stored: dict, patch: dict) -> None:
    result = apply_merge_patch(stored, patch)
    leaves = flatten_leaves(result)
    for path, value in _non_null_leaves(patch).items():
        assert same_json(leaves[path], value)
    for path in _null_paths(patch):
        assert not any(leaf == path or leaf.startswith(f"{path}.") for leaf in leaves)


@given(st.lists(STORED, max_size=3), STORED, PATCHES)
def test_a_patched_team_reads_back_its_values_through_the_whole_chain(
    ancestors: list[dict], team: dict, patch: dict
) -> None:
    effective = flatten_leaves(merge_layers([*ancestors, apply_merge_patch(team, patch)]))
    for path, value in _non_null_leaves(patch).items():
        assert same_json(effective[path], value)


@given(STORED, PATCHES)
def test_stored_overrides_never_hold_null_or_empty_objects(stored: dict, patch: dict) -> None:
    result = apply_merge_patch(stored, patch)
    assert not any(_holds_null_or_empty_object(value) for value in result.values())


@given(STORED, PATCHES)
def test_applying_the_same_patch_twice_changes_nothing_more(stored: dict, patch: dict) -> None:
    once = apply_merge_patch(stored, patch)
    assert apply_merge_patch(once, patch) == once


@given(STORED, PATCHES)
def test_keys_the_patch_does_not_mention_are_kept(stored: dict, patch: dict) -> None:
    result = apply_merge_patch(stored, patch)
    for key, value in stored.items():
        if key not in patch:
            assert result[key] == value


def test_null_deletes_the_key_and_drops_the_emptied_parent() -> None:
    stored = {"agents": {"investigation_agent": {"prompt": "p"}}, "channel": "#a"}
    assert apply_merge_patch(stored, {"agents": {"investigation_agent": {"prompt": None}}}) == {"channel": "#a"}


def test_deleting_a_missing_key_is_a_no_op() -> None:
    assert apply_merge_patch({"a": 1}, {"b": None}) == {"a": 1}


@given(STORED, STORED)
def test_the_diff_of_a_document_with_itself_is_empty_and_otherwise_lists_every_changed_leaf(
    old: dict, new: dict
) -> None:
    assert leaf_diff(old, old) == {}
    diff = leaf_diff(old, new)
    old_leaves, new_leaves = flatten_leaves(old), flatten_leaves(new)
    for path in old_leaves.keys() | new_leaves.keys():
        changed = path not in old_leaves or path not in new_leaves or not same_json(old_leaves[path], new_leaves[path])
        assert (path in diff) == changed


def test_the_diff_names_dotted_leaves_and_counts_an_array_as_one_leaf() -> None:
    old = {
        "alerts": {"disabled": ["Watchdog", "InfoInhibitor"]},
        "agents": {"investigation_agent": {"prompt": "p", "timeout": 300}},
    }
    new = {
        "alerts": {"disabled": ["Watchdog", "InfoInhibitor", "TargetDown"]},
        "agents": {"investigation_agent": {"timeout": 300}},
    }
    assert leaf_diff(old, new) == {
        "agents.investigation_agent.prompt": {"old": "p", "new": None},
        "alerts.disabled": {"old": ["Watchdog", "InfoInhibitor"], "new": ["Watchdog", "InfoInhibitor", "TargetDown"]},
    }


def test_the_diff_tells_integers_from_booleans_and_floats() -> None:
    assert set(leaf_diff({"a": 1, "b": 1}, {"a": True, "b": 1.0})) == {"a", "b"}


def test_the_merge_module_imports_only_the_standard_library() -> None:
    source = Path(merge_module.__file__).read_text(encoding="utf-8")
    imported = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from ")) and not line.startswith("from __future__")
    }
    assert imported <= set(sys.stdlib_module_names)
