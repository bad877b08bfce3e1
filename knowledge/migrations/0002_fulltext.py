"""The database's own full-text index over knowledge chunks.

PostgreSQL: a GIN index on ``search_vector`` (filled by ``knowledge.services``). SQLite: an FTS5 table over the
chunk table (external content, Porter stemming), kept in step by triggers.
"""

from typing import Any

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE knowledge_chunk_fts USING fts5(heading, keywords, text, "
    "content='knowledge_knowledgechunk', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER knowledge_chunk_ai AFTER INSERT ON knowledge_knowledgechunk BEGIN "
    "INSERT INTO knowledge_chunk_fts(rowid, heading, keywords, text) VALUES (new.id, new.heading, new.keywords, new.text); "
    "END",
    "CREATE TRIGGER knowledge_chunk_ad AFTER DELETE ON knowledge_knowledgechunk BEGIN "
    "INSERT INTO knowledge_chunk_fts(knowledge_chunk_fts, rowid, heading, keywords, text) "
    "VALUES ('delete', old.id, old.heading, old.keywords, old.text); END",
    "CREATE TRIGGER knowledge_chunk_au AFTER UPDATE ON knowledge_knowledgechunk BEGIN "
    "INSERT INTO knowledge_chunk_fts(knowledge_chunk_fts, rowid, heading, keywords, text) "
    "VALUES ('delete', old.id, old.heading, old.keywords, old.text); "
    "INSERT INTO knowledge_chunk_fts(rowid, heading, keywords, text) VALUES (new.id, new.heading, new.keywords, new.text); "
    "END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_chunk_au",
    "DROP TRIGGER IF EXISTS knowledge_chunk_ad",
    "DROP TRIGGER IF EXISTS knowledge_chunk_ai",
    "DROP TABLE IF EXISTS knowledge_chunk_fts",
]
POSTGRES_FORWARD = [
    "CREATE INDEX kb_chunk_search ON knowledge_knowledgechunk USING gin (search_vector)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS kb_chunk_search"]


def _run(statements: dict[str, list[str]]) -> Any:
    def apply(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
