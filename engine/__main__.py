"""``python -m engine investigate "MESSAGE" [--agent A] [--attach FILE ...] [--kubeconfig PATH] [--json]``."""

from engine.cli import main

raise SystemExit(main())
