"""WSGI entry point: ``gunicorn 'settlewatch.web.wsgi:app'`` (or waitress, uWSGI, mod_wsgi).

Reads SETTLEWATCH_DB (default: the settings' db), SETTLEWATCH_SECRET_KEY (required: every
worker must sign sessions and CSRF tokens with the same key), SETTLEWATCH_SOURCES and
SETTLEWATCH_SECURE_COOKIES (set to 1 behind HTTPS).
"""

from __future__ import annotations

import os

from settlewatch.config import load_config
from settlewatch.errors import UsageError
from settlewatch.web.app import create_app

if not os.environ.get("SETTLEWATCH_SECRET_KEY"):
    raise UsageError(
        "SETTLEWATCH_SECRET_KEY is not set (fix: export a long random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`, the same for every worker)"
    )

_config = load_config()
app = create_app(_config.get("db"), config=_config, sources_dir=_config.get("sources") or None)
