"""The token lookup on a token's first request in a process: one join, built once from model metadata.

Compiling the equivalent ORM query (token + org + team via select_related) costs more than running it, and
building every column of three models costs nearly as much again. The SQL here selects only what
authentication, rate limiting and team selection read (other fields load lazily if touched), and rows pass
through the database converters the ORM would apply (``incidentfox_web.prepared``). The same statement reads the
credential epoch, so a cached token's stamp and its rows come from one snapshot (``tenancy.credential_cache``).
"""

from __future__ import annotations

from functools import cache

from incidentfox_web.prepared import ModelColumns, quote, statement_cursor
from tenancy.models import ApiToken, CredentialEpoch, Node, Organization

_TOKEN = (
    "id", "token_id", "kind", "org_id", "team_id", "label", "digest", "pepper_version", "read_only", "expires_at",
    "revoked_at", "last_used_at",
)  # fmt: skip
_ORG = ("id", "org_id", "name", "rate_limits", "token_default_expiry_days")
_TEAM = ("id", "org_id", "node_id", "name", "node_type", "parent_id", "path")


@cache
def _statement() -> tuple[str, ModelColumns[ApiToken], ModelColumns[Organization], ModelColumns[Node]]:
    token = ModelColumns.of(ApiToken, "t", _TOKEN)
    org = ModelColumns.of(Organization, "o", _ORG)
    team = ModelColumns.of(Node, "n", _TEAM)
    epoch_table = quote(CredentialEpoch._meta.db_table)
    epoch = f"(SELECT {quote('value')} FROM {epoch_table} WHERE {quote('id')} = 1)"  # noqa: S608
    sql = (
        f"SELECT {', '.join(token.select_list() + org.select_list() + team.select_list())}, {epoch} "  # noqa: S608
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"INNER JOIN {quote(Organization._meta.db_table)} o ON o.{quote('id')} = t.{quote('org_id')} "
        f"LEFT OUTER JOIN {quote(Node._meta.db_table)} n ON n.{quote('id')} = t.{quote('team_id')} "
        f"WHERE t.{quote('token_id')} = %s AND t.{quote('kind')} = %s"
    )
    return sql, token, org, team


def token_with_org_and_team(token_id: str, kind: str) -> tuple[ApiToken | None, int | None]:
    """The token row with ``org`` and ``team`` already attached (or None), and the credential epoch."""
    sql, token_columns, org_columns, team_columns = _statement()
    with statement_cursor() as cursor:
        cursor.execute(sql, [token_id, kind])
        row = cursor.fetchone()
    if row is None:
        return None, None
    ends = (len(_TOKEN), len(_TOKEN) + len(_ORG), len(_TOKEN) + len(_ORG) + len(_TEAM))
    token = token_columns.instance(row[: ends[0]])
    org = org_columns.instance(row[ends[0] : ends[1]])
    team = team_columns.instance(row[ends[1] : ends[2]])
    assert token is not None
    assert org is not None
    token.org = org
    token.team = team
    if team is not None:
        team.org = org
    epoch: int | None = row[-1]
    return token, epoch
