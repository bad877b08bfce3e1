"""Response bodies with attribute and ``["key"]`` access; the API's JSON is kept as it came."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


class Record(Mapping[str, Any]):
    """A JSON object: ``record.summary`` and ``record["summary"]`` both work; nested objects are Records too.
    A key the API did not send is an ``AttributeError`` (``.get()`` returns None)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """The body exactly as the API sent it."""
        return dict(self._data)


class Investigation(Record):
    """A status body (API.md §4.2). ``summary``, ``root_cause``, ``timeline``, ``affected_systems`` and
    ``recommendations`` read from ``result`` and are None until the investigation has completed."""

    __slots__ = ()

    @property
    def done(self) -> bool:
        return self._data.get("status") in TERMINAL_STATUSES

    def _result(self, key: str) -> Any:
        result = self._data.get("result")
        return _wrap(result.get(key)) if isinstance(result, dict) else None

    @property
    def summary(self) -> str | None:
        value = self._result("summary")
        return value if isinstance(value, str) else None

    @property
    def root_cause(self) -> Record | None:
        value = self._result("root_cause")
        return value if isinstance(value, Record) else None

    @property
    def timeline(self) -> list[Any] | None:
        value = self._result("timeline")
        return value if isinstance(value, list) else None

    @property
    def affected_systems(self) -> list[str] | None:
        value = self._result("affected_systems")
        return value if isinstance(value, list) else None

    @property
    def recommendations(self) -> list[Any] | None:
        value = self._result("recommendations")
        return value if isinstance(value, list) else None


class InvestigationPage(Record):
    """``GET /agents/investigations``: ``page.investigations`` (newest first) and ``page.pagination``."""

    __slots__ = ()

    @property
    def total(self) -> int:
        """How many investigations match the filters, on every page."""
        return int(self._data.get("pagination", {}).get("total", 0))


class ConfigChange(Record):
    """``PUT /config/me``: applied (``applied`` is True; ``version``, ``changed_fields``, ``effective_config``) or
    submitted for approval (``applied`` is False; ``change_request_id``, ``status``, ``approvers``, ``changes``)."""

    __slots__ = ()

    @property
    def applied(self) -> bool:
        return "change_request_id" not in self._data
