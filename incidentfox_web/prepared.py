"""Reads on the hottest request paths, built once from model metadata instead of compiled by the ORM each time.

Compiling a small ORM query (filters, joins, select list) costs several times more than running it on a warm
connection; at thousands of requests per second that is most of a status poll. These helpers build the SQL once
per process, bind only the values, and turn rows into model instances through the same database converters and
``Model.from_db`` the ORM uses, so the instances behave exactly like queried ones (deferred fields load lazily).
Only identifiers from model metadata are ever interpolated into the SQL; values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


def statement_cursor() -> CursorWrapper:
    """A cursor for a statement built once: prepared by the server on PostgreSQL (see ``incidentfox_web.db``),
    Django's usual cursor elsewhere."""
    prepared = getattr(connection, "statement_cursor", None)
    cursor: CursorWrapper = prepared() if prepared is not None else connection.cursor()
    return cursor


def quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


def quoted_column(model: type[Model], alias: str, attname: str) -> str:
    """``alias."column"`` for a concrete field given by attribute name (``team_id``, not ``team``)."""
    field = next(field for field in model._meta.concrete_fields if field.attname == attname)
    return f"{alias}.{quote(str(field.column))}"


@dataclass(frozen=True)
class ModelColumns[M: Model]:
    """Some columns of ``model`` under a table alias, and how to turn their values into an instance."""

    model: type[M]
    alias: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[Converter, ...], ...]

    @classmethod
    def of(cls, model: type[M], alias: str, attnames: Sequence[str] | None = None) -> ModelColumns[M]:
        """``attnames`` defaults to every concrete field; the primary key must come first."""
        fields = {field.attname: field for field in model._meta.concrete_fields}
        names = tuple(attnames) if attnames is not None else tuple(fields)
        assert names[0] == model._meta.pk.attname, "the primary key comes first (None means a missing outer join)"
        converters = []
        for attname in names:
            col = fields[attname].get_col(alias)
            converters.append(tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
        return cls(model, alias, names, tuple(converters))

    def select_list(self) -> list[str]:
        return [quoted_column(self.model, self.alias, name) for name in self.attnames]

    def instance(self, values: Sequence[Any]) -> M | None:
        """The instance for this model's slice of a row; None when an outer join found nothing."""
        if values[0] is None:
            return None
        converted = list(values)
        for index, field_converters in enumerate(self.converters):
            for converter in field_converters:
                converted[index] = converter(converted[index], None, connection)
        return self.model.from_db(connection.alias, list(self.attnames), converted)


class PreparedGet[M: Model]:
    """``SELECT <every column> FROM <model's table> WHERE <f1> = %s AND <f2> = %s ...``: at most one row."""

    def __init__(self, model: type[M], *where: str) -> None:
        self._model = model
        self._where = where
        self._built: tuple[str, ModelColumns[M]] | None = None

    def _build(self) -> tuple[str, ModelColumns[M]]:
        if self._built is None:
            columns = ModelColumns.of(self._model, "t")
            conditions = " AND ".join(f"{quoted_column(self._model, 't', name)} = %s" for name in self._where)
            table = quote(self._model._meta.db_table)
            self._built = (f"SELECT {', '.join(columns.select_list())} FROM {table} t WHERE {conditions}", columns)  # noqa: S608
        return self._built

    def __call__(self, *values: Any) -> M | None:
        assert len(values) == len(self._where)
        sql, columns = self._build()
        with statement_cursor() as cursor:
            cursor.execute(sql, list(values))
            row = cursor.fetchone()
        return None if row is None else columns.instance(row)
