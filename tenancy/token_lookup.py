"""The token lookup on every API request: one prepared join, built once from model metadata.

Compiling the equivalent ORM query (token + org + team via select_related) costs more than running it; at several
thousand requests per second that is most of the authentication overhead. The SQL here is derived from the
models' concrete fields, and rows pass through the same database converters the ORM would apply.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model

from tenancy.models import ApiToken, Node, Organization

_MODELS: tuple[tuple[type[Model], str], ...] = ((ApiToken, "t"), (Organization, "o"), (Node, "n"))


@cache
def _statement() -> tuple[str, list[tuple[type[Model], list[str], list[Any]]]]:
    def quote(name: str) -> str:
        return str(connection.ops.quote_name(name))

    columns: list[str] = []
    layout = []
    for model, alias in _MODELS:
        fields = list(model._meta.concrete_fields)
        columns += [f"{alias}.{quote(str(field.column))}" for field in fields]
        converters = []
        for field in fields:
            col = field.get_col(alias)
            converters.append(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        layout.append((model, [field.attname for field in fields], converters))
    # Only identifiers from model metadata are interpolated; the two values are bound parameters.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(ApiToken._meta.db_table)} t "  # noqa: S608
        f"INNER JOIN {quote(Organization._meta.db_table)} o ON o.{quote('id')} = t.{quote('org_id')} "
        f"LEFT OUTER JOIN {quote(Node._meta.db_table)} n ON n.{quote('id')} = t.{quote('team_id')} "
        f"WHERE t.{quote('token_id')} = %s AND t.{quote('kind')} = %s"
    )
    return sql, layout


def token_with_org_and_team(token_id: str, kind: str) -> ApiToken | None:
    """The token row with ``org`` and ``team`` already attached, or None."""
    sql, layout = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_id, kind])
        row = cursor.fetchone()
    if row is None:
        return None
    instances: list[Model | None] = []
    offset = 0
    for model, attnames, converters in layout:
        values = list(row[offset : offset + len(attnames)])
        offset += len(attnames)
        if values[0] is None:  # the LEFT JOIN found no team
            instances.append(None)
            continue
        for index, field_converters in enumerate(converters):
            for converter in field_converters:
                values[index] = converter(values[index], None, connection)
        instances.append(model.from_db(connection.alias, attnames, values))
    token, org, team = instances
    assert isinstance(token, ApiToken)
    assert isinstance(org, Organization)
    token.org = org
    token.team = team  # type: ignore[assignment]
    if isinstance(team, Node):
        team.org = org
    return token
