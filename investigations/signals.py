"""Keeps ``TeamInvestigationCount`` in step when investigations are deleted, by any path the ORM takes (the
Django admin, a queryset ``delete()``, a cascade from elsewhere): each deleted row decrements its team's count in
the deleting transaction."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.db.models.signals import post_delete

from investigations.models import Investigation, TeamInvestigationCount


def _count_one_less(sender: type[Investigation], instance: Investigation, **kwargs: Any) -> None:
    TeamInvestigationCount.objects.filter(team_id=instance.team_id, total__gt=0).update(total=F("total") - 1)


def connect_signals() -> None:
    post_delete.connect(_count_one_less, sender=Investigation, dispatch_uid="investigation_count_on_delete")
