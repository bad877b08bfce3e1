"""The token lookup on every API request: one prepared join, built once from model metadata.

Compiling the equivalent ORM query (token + org + team via select_related) costs more than running it, and
building every column of three models costs nearly as much again; at thousands of requests per second that is
most of the authentication overhead. The SQL here selects only what authentication, rate limiting and team
selection read (other fields load lazily if touched), and rows pass through the database converters the ORM
would apply.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model

from tenancy.models import ApiToken, Node, Organization

_SELECTED: tuple[tuple[type[Model], str, tuple[str, ...]], ...] = (
    (
        ApiToken,
        "t",
        (
            "id", "token_id", "kind", "org_id", "team_id", "label", "digest", "pepper_version", "read_only",
            "expires_at", "revoked_at", "last_used_at",
        ),
    ),
    (Organization, "o", ("id", "org_id", "name", "rate_limits", "token_default_expiry_days")),
    (Node, "n", ("id", "org_id", "node_id", "name", "node_type", "parent_id", "path")),
)  # fmt: skip

Converter = Callable[[Any, Any, Any], Any]


@cache
def _statement() -> tuple[str, list[tuple[type[Model], tuple[str, ...], list[list[Converter]]]]]:
    def quote(name: str) -> str:
        return str(connection.ops.quote_name(name))

    columns: list[str] = []
    layout = []
    for model, alias, attnames in _SELECTED:
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        converters = []
        for attname in attnames:
            field = by_attname[attname]
            columns.append(f"{alias}.{quote(str(field.column))}")
            col = field.get_col(alias)
            converters.append(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        layout.append((model, attnames, converters))
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
        instances.append(model.from_db(connection.alias, list(attnames), values))
    token, org, team = instances
    assert isinstance(token, ApiToken)
    assert isinstance(org, Organization)
    token.org = org
    token.team = team  # type: ignore[assignment]
    if isinstance(team, Node):
        team.org = org
    return token
