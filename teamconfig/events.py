"""``config_changed``: sent in the writing transaction whenever a node's configuration changes, as
``receiver(sender, node=<Node>, changed_fields=[dotted paths], **kwargs)``. Apps that keep state derived from a
team's configuration (the webhooks' disabled flag) react here instead of reading the audit log."""

from __future__ import annotations

from django.dispatch import Signal

config_changed = Signal()
