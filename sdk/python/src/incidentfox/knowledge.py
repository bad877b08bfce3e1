"""``client.knowledge``: the team's knowledge base (API.md §10): teach documents, retrieve passages, ask for
answers, and say what helped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from incidentfox.models import Record

if TYPE_CHECKING:
    from incidentfox.client import IncidentFoxClient


class Knowledge:
    def __init__(self, client: IncidentFoxClient) -> None:
        self._client = client

    def teach(
        self,
        content: str,
        type: str = "runbook",
        *,
        title: str | None = None,
        service: str | None = None,
        tags: Sequence[str] | None = None,
        key: str | None = None,
        node_id: str | None = None,
    ) -> Record:
        """Create a document (``runbook``, ``note`` or ``postmortem``); the same ``key`` updates it.
        ``node_id`` (org admins) puts it on a group or the org above the team."""
        body: dict[str, Any] = {"content": content, "type": type}
        optional = {"title": title, "service": service, "key": key, "node_id": node_id}
        body.update({name: value for name, value in optional.items() if value is not None})
        if tags is not None:
            body["tags"] = list(tags)
        return Record(self._client.request("POST", "/kb/teach", json=body))

    def retrieve(self, query: str, *, service: str | None = None, top_k: int = 5) -> Record:
        """``query_id`` and ``results``: the best passage of each of the ``top_k`` most relevant documents."""
        body: dict[str, Any] = {"query": query, "top_k": top_k}
        if service is not None:
            body["service"] = service
        return Record(self._client.request("POST", "/kb/retrieve", json=body))

    def answer(self, question: str, *, service: str | None = None, include_sources: bool = True) -> Record:
        """``answer`` citing ``sources`` as [1], [2], …; written by the team's model in LLM mode."""
        body: dict[str, Any] = {"question": question, "include_sources": include_sources}
        if service is not None:
            body["service"] = service
        return Record(self._client.request("POST", "/kb/answer", json=body))

    def feedback(self, query_id: str, helpful: bool, comment: str | None = None) -> None:
        """Whether a retrieval or answer helped; it lifts or lowers the top document in later rankings."""
        body: dict[str, Any] = {"query_id": query_id, "helpful": helpful}
        if comment is not None:
            body["comment"] = comment
        self._client.request("POST", "/kb/feedback", json=body)

    def documents(
        self,
        limit: int = 20,
        offset: int = 0,
        *,
        type: str | None = None,
        service: str | None = None,
        q: str | None = None,
    ) -> Record:
        """``documents`` the team reads (its own and those above it) and ``pagination``."""
        params = {"limit": limit, "offset": offset, "type": type, "service": service, "q": q}
        return Record(self._client.request("GET", "/kb/documents", params=params))

    def get(self, document_id: str) -> Record:
        return Record(self._client.request("GET", f"/kb/documents/{document_id}"))

    def delete(self, document_id: str) -> None:
        self._client.request("DELETE", f"/kb/documents/{document_id}")

    def tree_stats(self) -> Record:
        """Documents per node of the team's lineage and per type."""
        return Record(self._client.request("GET", "/kb/tree/stats"))

    def status(self) -> Record:
        """The search index: engine, counts and state."""
        return Record(self._client.request("GET", "/kb/status"))
