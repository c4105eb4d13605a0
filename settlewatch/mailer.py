"""Mail out: outbox rows become MIME messages and go out over SMTP (smtplib).

Configuration is ``SETTLEWATCH_SMTP_URL`` and ``SETTLEWATCH_MAIL_FROM`` (or the ``smtp_url``
and ``mail_from`` keys of the config file)::

    smtp://[user[:password]@]host[:port]      plain SMTP (port 25), optionally ?starttls=1
    smtps://[user[:password]@]host[:port]     SMTP over TLS (port 465)

A password may instead come from ``SETTLEWATCH_SMTP_PASSWORD`` so that a committed config file
never holds it. The Message-ID is derived from the outbox row's idempotency key: a message
that is ever sent twice carries the same Message-ID, which mail clients fold into one.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from settlewatch.errors import UsageError
from settlewatch.outbox import DeliveryError, OutboxRow

URL_VAR = "SETTLEWATCH_SMTP_URL"
FROM_VAR = "SETTLEWATCH_MAIL_FROM"
PASSWORD_VAR = "SETTLEWATCH_SMTP_PASSWORD"
_URL_FIX = "use smtp://[user:pass@]host:port, smtps://host:465 or smtp://host:587?starttls=1"
_LANG = re.compile(r'<html[^>]*\blang="([A-Za-z-]+)"')
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mail_from: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    tls: bool = False  # smtps: TLS from the first byte
    starttls: bool = False
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        return parseaddr(self.mail_from)[1].rpartition("@")[2] or "settlewatch.invalid"


def _fail(message: str, fix: str = _URL_FIX) -> UsageError:
    return UsageError(f"{URL_VAR}: {message} (fix: {fix})")


def smtp_settings(values: Mapping[str, str], env: Mapping[str, str]) -> SmtpSettings:
    """Read the SMTP settings from config ``values`` (smtp_url, mail_from), else ``env``."""
    url = values.get("smtp_url") or env.get(URL_VAR, "")
    mail_from = values.get("mail_from") or env.get(FROM_VAR, "")
    if not url:
        raise _fail("not set; mail cannot be sent")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise _fail(f"scheme {parts.scheme!r} is not smtp or smtps")
    try:
        port = parts.port
    except ValueError as exc:
        raise _fail(f"bad port in {parts.netloc.rpartition('@')[2]!r}") from exc
    if not parts.hostname:
        raise _fail("no host name")
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise _fail(f"unknown option {sorted(unknown)[0]!r}", "only ?starttls=1 and ?timeout=S")
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
    tls = parts.scheme == "smtps"
    if tls and starttls:
        raise _fail("smtps:// and ?starttls=1 together", "use one of them")
    try:
        timeout = float(query.get("timeout", ["30"])[-1])
    except ValueError as exc:
        raise _fail("?timeout= is not a number of seconds") from exc
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", parseaddr(mail_from)[1] or "-"):
        raise UsageError(
            f"{FROM_VAR}: {mail_from!r} is not a sender address "
            "(fix: set it to e.g. 'Settlewatch <alerts@example.com>')"
        )
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        mail_from=mail_from,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else env.get(PASSWORD_VAR),
        tls=tls,
        starttls=starttls,
        timeout=timeout,
    )


def message_id(key: str, domain: str) -> str:
    """The same idempotency key always gives the same Message-ID."""
    return f"<sw.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build_email(row: OutboxRow, settings: SmtpSettings) -> EmailMessage:
    """multipart/alternative (text, then HTML), inside multipart/mixed when there are files."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = settings.mail_from
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(row.idempotency_key, settings.domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg["X-Settlewatch-Key"] = row.idempotency_key
    # base64 keeps CJK text compact and needs no 8BITMIME from the server
    msg.set_content(row.body_text, charset="utf-8", cte="base64")
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html", charset="utf-8", cte="base64")
    for a in row.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        params = {"method": "PUBLISH"} if subtype == "calendar" else {}
        if maintype == "text":
            msg.add_attachment(
                a.text, subtype=subtype, charset="utf-8", cte="base64", filename=a.filename,
                params=params,
            )  # fmt: skip
        else:
            msg.add_attachment(
                a.text.encode("utf-8"), maintype=maintype, subtype=subtype, filename=a.filename
            )
    # set last: set_content and make_mixed move Content-* headers into the sub-parts
    lang = _LANG.search(row.body_html[:500])
    if lang:
        msg["Content-Language"] = lang[1]
    return msg


def _check(reply: tuple[int, bytes], expected: tuple[int, ...], step: str) -> None:
    code, text = reply
    if code in expected:
        return
    detail = f"SMTP {step}: {code} {text.decode('utf-8', 'replace').strip()}"
    raise DeliveryError(detail, permanent=500 <= code < 600)


class SmtpTransport:
    """Delivers email rows over one SMTP connection, reopened after any error."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _abort(self) -> None:
        # drop the socket without QUIT: an unfinished DATA is then discarded by the server
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def deliver(self, row: OutboxRow, handover: Callable[[], None]) -> None:
        if row.channel != "email":
            raise DeliveryError(f"outbox row {row.id} is not email", permanent=True)
        msg = build_email(row, self.settings)
        sender = parseaddr(self.settings.mail_from)[1]
        try:
            payload = msg.as_bytes()
            recipient = parseaddr(row.recipient)[1]
            recipient.encode("ascii")
        except (UnicodeEncodeError, ValueError) as exc:
            raise DeliveryError(f"cannot encode the message: {exc}", permanent=True) from exc
        try:
            self._send(sender, recipient, payload, handover)
        except smtplib.SMTPAuthenticationError as exc:
            self._abort()
            raise DeliveryError(f"SMTP login refused: {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._abort()
            raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from exc
        except DeliveryError:
            self._abort()
            raise
        except BaseException:
            self._abort()  # e.g. the hand-over commit failed: the message must not leave
            raise

    def _send(
        self, sender: str, recipient: str, payload: bytes, handover: Callable[[], None]
    ) -> None:
        smtp = self._connect()
        _check(smtp.mail(sender), (250,), "MAIL FROM")
        _check(smtp.rcpt(recipient), (250, 251), "RCPT TO")
        _check(smtp.docmd("DATA"), (354,), "DATA")
        # smtplib.data() writes the body and the final "." at once; splitting them lets the
        # hand-over be recorded while the server can still discard the message
        body = _LEADING_DOT.sub(b"..", payload)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body)
        handover()
        smtp.send(b".\r\n")
        _check(smtp.getreply(), (250,), "end of DATA")
