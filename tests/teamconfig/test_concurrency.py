"""Two simultaneous writers: both changes land (or one gets a clear 409); none is silently lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from teamconfig import services
from teamconfig.models import ConfigVersion, NodeConfig
from tenancy.models import Node
from tests.conftest import ApiCaller
from tests.teamconfig.conftest import admin_write


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_puts_both_land_or_one_gets_a_clear_409(member: ApiCaller, team: Node) -> None:
    patches = [
        {"webhooks": {"investigation_complete": "https://hooks.example.com/from-a"}},
        {"alerts": {"disabled": ["from-b"]}},
    ]
    barrier = threading.Barrier(len(patches))
    results: list[Any] = [None] * len(patches)

    def write(index: int) -> None:
        try:
            caller = ApiCaller(Client(), member.token)
            barrier.wait(timeout=10)
            response = caller.put("/config/me", patches[index])
            results[index] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(patches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(status for status, _ in results)
    assert statuses in ([200, 200], [200, 409]), results
    row = NodeConfig.objects.get(node=team)
    landed = [patch for patch, (status, _) in zip(patches, results, strict=True) if status == 200]
    for patch in landed:
        for key, value in patch.items():
            assert row.overrides[key] == value
    assert row.version == len(landed)
    assert sorted(ConfigVersion.objects.filter(node=team).values_list("version", flat=True)) == list(
        range(1, len(landed) + 1)
    )
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "conflict"


@pytest.mark.django_db
def test_a_write_planned_on_a_stale_read_is_re_planned_instead_of_overwriting(
    team: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_write(team, {"webhooks": {"investigation_complete": "https://hooks.example.com/other-writer"}})
    real_locked_config = services._locked_config
    reads: list[int] = []

    def stale_first_read(node: Node) -> NodeConfig:
        row = real_locked_config(node)
        reads.append(row.version)
        if len(reads) == 1:  # as if read just before the other writer committed
            return NodeConfig(pk=row.pk, org_id=row.org_id, node_id=row.node_id, overrides={}, version=0)
        return row

    monkeypatch.setattr(services, "_locked_config", stale_first_read)
    applied = admin_write(team, {"alerts": {"disabled": ["Watchdog"]}})
    row = NodeConfig.objects.get(node=team)
    assert row.overrides == {
        "webhooks": {"investigation_complete": "https://hooks.example.com/other-writer"},
        "alerts": {"disabled": ["Watchdog"]},
    }
    assert (row.version, applied.version, len(reads)) == (2, 2, 2)
    assert applied.changed_fields == ["alerts.disabled"]
