"""A pasted ``kubectl logs`` command names the pod or workload it read, never the resource kind."""

from __future__ import annotations

import pytest

from engine.parsers.detect import _log_doc


@pytest.mark.parametrize(
    ("hint", "pod"),
    [
        ("kubectl logs deploy/checkout --tail=200", "checkout"),
        ("kubectl -n shop logs deployment/checkout", "checkout"),
        ("kubectl logs statefulset/postgres -c db", "postgres"),
        ("kubectl -n shop logs pod/checkout-7d9f-abc", "checkout-7d9f-abc"),
        ("kubectl logs -p checkout-1", "checkout-1"),
    ],
)
def test_kubectl_logs_names_the_workload_not_its_kind(hint: str, pod: str) -> None:
    assert _log_doc("pasted.log", [], hint).pod == pod
