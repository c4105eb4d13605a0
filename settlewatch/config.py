"""Settings are data with help: defaults, then a config file, then SETTLEWATCH_* variables.

``settlewatch config show`` prints every setting, its value and where the value came from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from settlewatch.errors import InputError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return "SETTLEWATCH_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "sqlite:///settlewatch.db", "Database URL (SQLite file or PostgreSQL)."),
    Setting("sources", "", "Folder of source declarations; empty = the bundled rules/sources."),
    Setting(
        "user_agent",
        "settlewatch/0.1 (+https://github.com/settlewatch; compliance watcher)",
        "User-Agent sent with every request.",
    ),
    Setting("download_timeout", "20", "Seconds before a request times out."),
    Setting("max_response_bytes", "10485760", "Responses larger than this are dropped."),
    Setting(
        "baseline_days",
        "30",
        "On a source's first crawl, notices newer than this many "
        "days enter the review queue; older ones are history.",
    ),
    Setting(
        "lease_seconds",
        "120",
        "A crawl holds its source's lease this long between "
        "renewals; a killed crawl frees it after this time.",
    ),
    Setting("crawl_timeout", "1800", "Seconds before a crawl process is stopped."),
    Setting(
        "crawl_processes",
        "0",
        "Crawler processes one crawl of several sources uses; 0 = one per CPU core, at most 4.",
    ),
    Setting(
        "track_processes",
        "0",
        "Processes that extract pages ahead of tracking after a large fetch; 0 = one per core "
        "(at most 4), 1 = extract inline.",
    ),
    Setting(
        "smtp_url",
        "",
        "smtp://[user[:pass]@]host[:port], smtps://host, or "
        "smtp://host:587?starttls=1. Keep passwords in the environment.",
    ),
    Setting(
        "mail_from", "", "Sender of digests and alerts, e.g. Settlewatch <alerts@example.com>."
    ),
    Setting("operator_email", "", "Operator addresses for source-health alerts (comma-separated)."),
    Setting("operator_webhooks", "", "Operator apprise URLs for source-health alerts."),
    Setting("outbox_max_attempts", "5", "Delivery attempts before an outbox row is failed."),
    Setting("outbox_backoff", "60", "Seconds before the first retry; doubled each time."),
    Setting("outbox_lease", "300", "Seconds before a crashed sender's claimed row is recovered."),
    Setting("secret_key", "", "Signs web sessions and CSRF tokens; same value for every worker."),
    Setting("secure_cookies", "0", "1: send the session cookie over HTTPS only."),
    Setting("trusted_proxies", "0", "How many proxies' X-Forwarded-* headers to trust."),
    Setting(
        "digest_cron",
        "0 9 * * 1",
        "When the scheduler sends the weekly digest: a crontab "
        "line in `timezone` (default Monday 09:00).",
    ),
    Setting("health_cron", "0 6 * * *", "When the scheduler's daily health check runs."),
    Setting("stale_days", "3", "A source with no successful crawl for this many days is stale."),
    Setting("alerts_interval", "60", "Seconds between the scheduler's outbox polls for alerts."),
    Setting(
        "misfire_grace_seconds",
        "3600",
        "A crawl missed while the scheduler was down still runs, once, if at most this late.",
    ),
    Setting("scheduler_workers", "8", "How many crawls the scheduler runs at the same time."),
    Setting(
        "scrapyd_url",
        "",
        "Scrapyd server to send crawls to (http://host:6800); empty = local crawler processes.",
    ),
    Setting("scrapyd_project", "settlewatch", "Scrapyd project the crawler egg is deployed to."),
    Setting("timezone", "Asia/Shanghai", "Time zone used for dates in digests."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    values: dict[str, str]
    origins: dict[str, str]

    def get(self, name: str) -> str:
        return self.values[name]

    def get_int(self, name: str) -> int:
        try:
            return int(self.values[name])
        except ValueError as exc:
            raise InputError(
                self.origins[name],
                f"'{self.values[name]}' is not a whole number",
                field=name,
                fix="give an integer",
            ) from exc


def load_config(path: str | None = None, overrides: dict[str, str | None] | None = None) -> Config:
    """Build the effective configuration.

    The file is ``SETTLEWATCH_CONFIG`` or ``./settlewatch.toml`` when present.
    """
    values = {s.name: s.default for s in SETTINGS}
    origins = {s.name: "default" for s in SETTINGS}
    file = path or os.environ.get("SETTLEWATCH_CONFIG") or "settlewatch.toml"
    if Path(file).is_file():
        try:
            data = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(file, f"not valid TOML: {exc}", fix="correct the syntax") from exc
        for key, value in data.items():
            if key not in _BY_NAME:
                raise InputError(
                    file, "unknown setting", field=key, fix="one of " + ", ".join(sorted(_BY_NAME))
                )
            values[key] = str(value)
            origins[key] = file
    for s in SETTINGS:
        if s.env in os.environ:
            values[s.name] = os.environ[s.env]
            origins[s.name] = s.env
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            origins[key] = "command line"
    return Config(values, origins)
