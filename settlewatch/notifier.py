"""Chat webhooks through apprise URLs (DingTalk, WeCom, Feishu, Slack, json://, form:// …).

A webhook row's recipient is one apprise URL as configured, for example
``dingtalk://${DINGTALK_TOKEN}`` or ``json://hooks.example.com/settlewatch``. ``${VAR}`` is
read from the environment at send time, so the tokens in a URL never have to sit in a merchants
file or in the database. Generic HTTP targets (json, form, xml) also receive the row's
idempotency key as an ``Idempotency-Key`` header (and, for json and form, an
``idempotency_key`` field), so a receiver can drop a repeat; chat services have no such field,
and the outbox's state transitions are what keep them from repeats.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from settlewatch.outbox import DeliveryError, OutboxRow

IDEMPOTENCY_HEADER = "Idempotency-Key"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(url: str, env: Mapping[str, str] | None = None) -> str:
    """Replace ``${VAR}`` from the environment; a missing variable is a permanent failure."""
    env = os.environ if env is None else env

    def value(m: re.Match[str]) -> str:
        if m[1] not in env:
            raise DeliveryError(
                f"webhook URL needs environment variable {m[1]}, which is not set "
                f"(fix: export {m[1]} for the sender)",
                permanent=True,
            )
        return env[m[1]]

    return _VAR.sub(value, url)


def redact(url: str) -> str:
    """The URL as it may be shown: scheme and host only (tokens live in paths and queries)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2]
    return f"{scheme}://{host}/…" if rest else url


def check_url(url: str) -> str | None:
    """None when apprise understands ``url`` (variables unexpanded), else the reason."""
    import apprise  # 0.1 s: only where webhooks are used

    probe = _VAR.sub("x", url)
    if apprise.Apprise.instantiate(probe) is None:
        return f"apprise does not understand {redact(url)!r}"
    return None


def _plugin(url: str, key: str) -> Any:
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise DeliveryError(
            f"apprise does not understand webhook URL {redact(url)!r} "
            "(fix: see https://github.com/caronc/apprise/wiki for URL forms)",
            permanent=True,
        )
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers[IDEMPOTENCY_HEADER] = key
    extras = getattr(plugin, "payload_extras", None)
    if isinstance(extras, dict):
        extras["idempotency_key"] = key
    return plugin


class WebhookTransport:
    """Delivers webhook rows: one apprise notification per row."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = env

    def deliver(self, row: OutboxRow, handover: Callable[[], None]) -> None:
        if row.channel != "webhook":
            raise DeliveryError(f"outbox row {row.id} is not a webhook", permanent=True)
        plugin = _plugin(expand(row.recipient, self.env), row.idempotency_key)
        handover()
        import apprise

        with apprise.LogCapture(level=logging.WARNING) as log:
            ok = plugin.notify(body=row.body_text, title=row.subject)
        if not ok:
            lines = [ln for ln in str(log.getvalue()).splitlines() if ln.strip()]
            detail = lines[-1] if lines else "no detail"
            raise DeliveryError(f"webhook {redact(row.recipient)}: {detail}")
