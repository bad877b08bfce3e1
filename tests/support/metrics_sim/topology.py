"""Random call graphs: entry services, a layered DAG of services with fan-out, shared datastores and caches, and a
batch job that nobody calls (a source of unrelated anomalies)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Kind = Literal["entry", "service", "datastore", "cache", "batch"]

_SERVICE_WORDS = (
    "checkout",
    "cart",
    "catalog",
    "inventory",
    "payment",
    "shipping",
    "user",
    "auth",
    "recommendation",
    "search",
    "pricing",
    "review",
    "notification",
    "email",
    "ad",
    "currency",
    "order",
    "fulfillment",
    "ledger",
    "billing",
    "profile",
    "media",
    "geo",
    "rating",
    "coupon",
    "loyalty",
    "fraud",
    "tax",
    "warehouse",
    "invoice",
    "refund",
    "wishlist",
    "session",
    "identity",
    "quote",
    "booking",
    "routing",
    "tracking",
    "delivery",
    "returns",
    "promo",
    "subscription",
    "gift-card",
    "content",
    "translation",
    "analytics",
    "feature-flag",
    "audit",
    "settlement",
    "kyc",
    "statement",
    "transfer",
    "limits",
    "accounts",
    "ratings",
    "seller",
    "listing",
    "bidding",
    "chat",
    "presence",
    "upload",
    "thumbnail",
    "export",
    "scheduler",
    "webhook",
    "sms",
    "push",
    "consent",
    "address",
)
_ENTRY_WORDS = ("frontend", "api-gateway", "web", "mobile-bff", "storefront", "edge-api")
_DB_WORDS = ("orders", "users", "catalog", "payments", "inventory", "accounts", "ledger", "events", "sessions")
_DB_KINDS = ("db", "postgres", "mysql", "mongodb")
_CACHE_KINDS = ("redis", "cache", "memcached")
_BATCH_WORDS = ("report-batch", "nightly-etl", "reindex-job", "billing-batch", "data-export")
_SUFFIXES = ("", "", "-service", "-svc", "-api")


@dataclass(frozen=True)
class Component:
    name: str
    kind: Kind
    replicas: int
    grpc: bool  # serves gRPC rather than HTTP (matters for the otel convention's rpc_* metrics)


@dataclass(frozen=True)
class Edge:
    caller: str
    callee: str
    calls_per_request: float  # callee requests per caller request
    sync_weight: float  # how much of the callee's latency the caller waits for (parallel calls overlap)
    error_propagation: float  # share of the callee's failures that fail the caller's request (retries, fallbacks)
    lag_s: float  # how long until the callee's change shows in the caller's metrics (queues, pools, retries)


@dataclass(frozen=True)
class Topology:
    components: tuple[Component, ...]
    edges: tuple[Edge, ...]
    namespace: str

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def callees(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.caller == name]

    def callers(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.callee == name]

    def order_callees_first(self) -> list[Component]:
        """Components sorted so that every callee comes before its callers."""
        done: list[Component] = []
        seen: set[str] = set()

        def visit(c: Component) -> None:
            if c.name in seen:
                return
            seen.add(c.name)
            for e in self.callees(c.name):
                visit(self.component(e.callee))
            done.append(c)

        for c in self.components:
            visit(c)
        return done

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)


def generate_topology(rng: random.Random, size: int, namespace: str) -> Topology:
    """A random call graph of ``size`` components (10-60)."""
    if not 5 <= size <= 80:
        raise ValueError(f"size must be 5..80, got {size}")
    suffix = rng.choice(_SUFFIXES)
    n_entry = 1 if size < 20 else rng.choice((1, 2))
    n_batch = 1 if size >= 10 else 0
    n_store = max(1, round(size / rng.uniform(7, 10)))
    n_cache = max(1, round(size / rng.uniform(12, 18)))
    n_service = size - n_entry - n_batch - n_store - n_cache
    entries = rng.sample(_ENTRY_WORDS, n_entry)
    services = [f"{w}{suffix}" for w in rng.sample(_SERVICE_WORDS, n_service)]
    stores = [f"{w}-{rng.choice(_DB_KINDS)}" for w in rng.sample(_DB_WORDS, min(n_store, len(_DB_WORDS)))]
    caches = [
        f"{w}-{rng.choice(_CACHE_KINDS)}" for w in rng.sample(("session", "cart", "price", "catalog", "rate"), n_cache)
    ]
    batch = rng.sample(_BATCH_WORDS, n_batch)
    components: list[Component] = []
    for name in entries:
        components.append(Component(name, "entry", rng.choice((2, 3)), grpc=False))
    for name in services:
        components.append(Component(name, "service", rng.choice((1, 2, 2, 3)), grpc=rng.random() < 0.35))
    for name in stores:
        components.append(Component(name, "datastore", 1, grpc=False))
    for name in caches:
        components.append(Component(name, "cache", 1, grpc=False))
    for name in batch:
        components.append(Component(name, "batch", 1, grpc=False))

    edges: list[Edge] = []

    def edge(caller: str, callee: str, store: bool) -> Edge:
        return Edge(
            caller,
            callee,
            calls_per_request=rng.uniform(1.0, 3.0) if store else rng.uniform(0.4, 1.6),
            sync_weight=rng.uniform(0.6, 1.0) if store else rng.uniform(0.45, 0.95),
            error_propagation=rng.uniform(0.7, 1.0) if store else rng.uniform(0.35, 0.85),
            lag_s=rng.uniform(10, 45),
        )

    # Services form layers: each is called by at least one earlier node (an entry or an earlier service).
    layer_sources = list(entries)
    linked: set[tuple[str, str]] = set()
    for i, name in enumerate(services):
        caller = rng.choice(layer_sources if i < 2 else layer_sources + services[:i])
        edges.append(edge(caller, name, False))
        linked.add((caller, name))
    # Extra fan-out: every caller tends to call 1-3 later services.
    for i, name in enumerate([*entries, *services]):
        later = services[max(0, i - len(entries) + 1) :]
        for callee in rng.sample(later, min(len(later), rng.choice((0, 1, 1, 2)))):
            if (name, callee) not in linked and name != callee:
                edges.append(edge(name, callee, False))
                linked.add((name, callee))
    # Shared datastores and caches: each is used by 1-4 services.
    users = services or entries
    for store in [*stores, *caches]:
        for caller in rng.sample(users, min(len(users), rng.choice((1, 2, 2, 3, 4)))):
            edges.append(edge(caller, store, True))
    return Topology(tuple(components), tuple(edges), namespace)
