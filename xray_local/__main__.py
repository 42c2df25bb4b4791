"""`python -m xray_local`: the local X-Ray daemon and API (see `xray_local.cli`)."""

from __future__ import annotations

from xray_local.cli import main

raise SystemExit(main())
