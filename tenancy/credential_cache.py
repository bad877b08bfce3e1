"""Verified API tokens kept in each server process, trusted only while the shared credential epoch is unchanged.

Authenticating a token needs its row, its organisation and its team. Reading them on every request was the
largest part of an authenticated request's own work, so each process keeps the rows of tokens it has verified:

- An entry is stamped with the epoch read *in the same statement* as the token row (``token_lookup``), so the
  stamp and the rows come from one snapshot.
- Every save or delete of a token, organisation or node moves the epoch in the same transaction
  (``epoch_bump``, wired to the model signals so the Django admin and every service are covered). When rate
  limits live in Redis, the Redis copy follows on commit, and the maintenance loop re-syncs it.
- Each request reads the current epoch in the round trip it already makes to count its rate limit
  (``ratelimit.hit``). An entry whose stamp differs is dropped and the token is read again, so a revocation,
  an expiry change or a new org limit takes effect on the very next request, in every process.
- The presented secret is checked against the cached digest on every request, and expiry too.
- Entries also age out after ``CREDENTIAL_CACHE_SECONDS`` (0 turns the cache off). That bounds staleness if
  the Redis copy of the epoch could not be written when it moved.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.db.models.signals import post_delete, post_save

from tenancy.models import ApiToken, CredentialEpoch, Node, Organization

logger = logging.getLogger("incidentfox.credentials")

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class CachedToken:
    token: ApiToken  # with ``org`` and ``team`` attached
    epoch: int
    loaded_at: float  # time.monotonic()


_entries: dict[str, CachedToken] = {}
_writing = threading.Lock()


def cached_token(token_id: str) -> CachedToken | None:
    """The entry for ``token_id`` if it is younger than ``CREDENTIAL_CACHE_SECONDS``."""
    entry = _entries.get(token_id)
    if entry is None:
        return None
    if time.monotonic() - entry.loaded_at >= settings.CREDENTIAL_CACHE_SECONDS:
        _entries.pop(token_id, None)
        return None
    return entry


def remember(token: ApiToken, epoch: int | None) -> None:
    """Keep a token that just verified. Without a known epoch nothing is cached (nothing could invalidate it)."""
    if epoch is None or settings.CREDENTIAL_CACHE_SECONDS <= 0:
        return
    entry = CachedToken(token=token, epoch=epoch, loaded_at=time.monotonic())
    with _writing:  # lookups stay lock-free; eviction iterates, so writers take turns
        if len(_entries) >= MAX_ENTRIES:
            _entries.pop(next(iter(_entries)), None)  # the oldest insertion
        _entries[token.token_id] = entry


def forget(token_id: str) -> None:
    _entries.pop(token_id, None)


def clear() -> None:
    _entries.clear()


def current_epoch() -> int | None:
    return CredentialEpoch.objects.filter(pk=1).values_list("value", flat=True).first()


def epoch_bump() -> None:
    """Move the epoch inside the caller's transaction; push the new value to Redis once it commits."""
    now_us = time.time_ns() // 1000
    moved = Greatest(F("value") + 1, Value(now_us))
    if not CredentialEpoch.objects.filter(pk=1).update(value=moved):
        try:
            with transaction.atomic():
                CredentialEpoch.objects.create(pk=1, value=now_us)
        except IntegrityError:  # created concurrently
            CredentialEpoch.objects.filter(pk=1).update(value=moved)
    transaction.on_commit(publish_epoch)


def publish_epoch() -> None:
    """Copy the committed epoch to the shared rate-limit store when that is not the database (Redis)."""
    from incidentfox_web.api import ratelimit

    if settings.RATE_LIMIT_STORE != "redis":
        return  # the database store reads the epoch from its table
    value = current_epoch()
    if value is None:
        return
    try:
        ratelimit.publish_credential_epoch(value)
    except Exception as exc:  # the maintenance loop retries; entries age out meanwhile
        logger.error("Could not publish the credential epoch to the rate-limit store (%s)", type(exc).__name__)


def _on_change(sender: type[Any], instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:  # a new row invalidates nothing that is cached
        return
    epoch_bump()


def connect_signals() -> None:
    for model in (ApiToken, Organization, Node):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"credential_epoch_save_{model.__name__}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"credential_epoch_delete_{model.__name__}")
