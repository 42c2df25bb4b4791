"""gunicorn config for lever runs: the app's own config, then `BENCH_GUNICORN` overrides (JSON).

e.g. `{"worker_class": "sync"}` or `{"accesslog": null}`; anything not named stays as
app/gunicorn_conf.py sets it.
"""

from __future__ import annotations

import json
import os

from app.gunicorn_conf import *  # noqa: F403

globals().update(json.loads(os.environ.get("BENCH_GUNICORN", "{}")))
