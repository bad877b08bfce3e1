"""Knowledge-base retrieval latency: p50/p95/p99 of a retrieval over 10,000 documents (target p95 < 50 ms on
PostgreSQL). The time covers the whole selector: the full-text query over the team's lineage, loading the
candidate chunks and the blended ranking.

The documents are the runbook corpus of the search-quality tests, written out for many services, plus notes, in
one team of a bench org; they are created once (bulk, through the same chunking and indexing code as teach) and
kept for later runs.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/kb_bench.py [--documents 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from knowledge.markdown import chunk_document, keywords_for, remediation_steps  # noqa: E402
from knowledge.models import KnowledgeChunk, KnowledgeDocument  # noqa: E402
from knowledge.search import backend_name, index_chunks  # noqa: E402
from knowledge.selectors import passages_for_team  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import Node, NodeType, Organization  # noqa: E402
from tenancy.services import node_create, org_create  # noqa: E402
from tests.knowledge.corpus import QUERIES, load_runbooks  # noqa: E402

SERVICES = [
    f"{area}-{part}"
    for area in (
        "payments",
        "checkout",
        "orders",
        "search",
        "billing",
        "identity",
        "catalog",
        "shipping",
        "ledger",
        "notify",
    )
    for part in ("api", "worker", "db", "cache", "gateway")
]
NOTE = """# {service} on-call notes {n}

## Dependencies
{service} calls {other} over HTTP with a 2 s timeout and retries twice; its database pool holds {pool} connections.

## Known failure modes
- When {other} is slow, {service} queues requests and p99 latency rises before errors do.
- Deploys of {service} restart all pods at once when maxUnavailable is misconfigured.
"""


def _team() -> Node:
    org = Organization.objects.filter(org_id="kb-bench").first() or org_create(org_id="kb-bench", name="KB bench")
    team = Node.objects.filter(org=org, node_id="team-kb").first()
    return team or node_create(
        org=org, node_id="team-kb", name="KB", node_type=NodeType.TEAM, meta=RequestMeta.system()
    )


def _fill(team: Node, wanted: int) -> None:
    have = KnowledgeDocument.objects.filter(node=team).count()
    if have >= wanted:
        return
    books = load_runbooks()
    started = time.perf_counter()
    for start in range(have, wanted, 500):
        with transaction.atomic():
            documents = []
            for n in range(start, min(start + 500, wanted)):
                service = SERVICES[n % len(SERVICES)]
                if n % 3 == 2:
                    other = SERVICES[(n * 7) % len(SERVICES)]
                    content, doc_type, tags = (
                        NOTE.format(service=service, other=other, n=n, pool=10 + n % 40),
                        "note",
                        [],
                    )
                else:
                    book = books[(n // 3 * 2 + n % 3) % len(books)]  # every runbook in turn, notes between
                    content, doc_type, tags = (
                        book.content.replace("the pod", f"the {service} pod"),
                        "runbook",
                        book.tags,
                    )
                documents.append(
                    KnowledgeDocument(
                        org_id=team.org_id,
                        node=team,
                        key=f"bench-{n}",
                        title=f"{content.splitlines()[0][2:]} ({service})",
                        doc_type=doc_type,
                        service=service,
                        tags=tags,
                        content=content,
                        remediation=remediation_steps(content),
                        created_by="bench",
                        updated_by="bench",
                    )
                )
            KnowledgeDocument.objects.bulk_create(documents)
            saved = KnowledgeDocument.objects.filter(node=team, key__in=[d.key for d in documents])
            chunks = [
                KnowledgeChunk(
                    document=doc,
                    node=team,
                    ordinal=i,
                    heading=c.heading,
                    keywords=keywords_for(doc.title, doc.service, doc.tags),
                    text=c.text,
                )
                for doc in saved
                for i, c in enumerate(chunk_document(doc.title, doc.content))
            ]
            KnowledgeChunk.objects.bulk_create(chunks)
            index_chunks(KnowledgeChunk.objects.filter(document__in=saved))
    print(f"created {wanted - have} documents in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="delete the bench documents and create them again")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    team = _team()
    if args.rebuild:
        KnowledgeDocument.objects.filter(node=team).delete()
    _fill(team, args.documents)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_knowledgechunk")
    documents = KnowledgeDocument.objects.filter(node=team).count()
    chunks = KnowledgeChunk.objects.filter(node=team).count()
    queries = [query for query, _ in QUERIES]
    for query in queries:  # warm the caches and the connection
        passages_for_team(team=team, query=query, service=None, top_k=5)
    hits = sum(
        1
        for query, expected in QUERIES
        if (found := passages_for_team(team=team, query=query, service=None, top_k=1))
        and found[0].title.startswith(f"{expected} (")
    )
    timings = []
    for round_ in range(args.rounds):
        for index, query in enumerate(queries):
            service = SERVICES[(index + round_) % len(SERVICES)] if index % 2 else None
            started = time.perf_counter()
            passages_for_team(team=team, query=query, service=service, top_k=5)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))]  # noqa: E731
    print(f"backend {backend_name()}: {documents} documents, {chunks} chunks, {len(timings)} retrievals (top_k=5)")
    print(
        f"retrieval latency ms: p50 {p(0.5):.1f}  p95 {p(0.95):.1f}  p99 {p(0.99):.1f}  "
        f"mean {statistics.mean(timings):.1f}"
    )
    print(f"target p95 < 50 ms: {'met' if p(0.95) < 50 else 'NOT met'}")
    print(f"quality at this size: the right runbook first for {hits} of {len(QUERIES)} queries")


if __name__ == "__main__":
    main()
