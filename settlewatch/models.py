"""Frozen dataclasses that flow between the pipeline steps.

Each step of the pipeline (extract, diff, classify, impact, digest) is a pure function over
these types; only the edges (spider, store, mailer, web) have side effects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

SourceKind = Literal["regulator", "scheme", "clearing", "acquirer"]
ChangeKind = Literal["new", "edited", "withdrawn"]
HealthState = Literal["ok", "failing", "blocked", "broken", "stale", "unknown"]
FetchRole = Literal["listing", "notice", "attachment"]


@dataclass(frozen=True)
class ListingRule:
    """How to read one listing: an HTML list or an RSS/Atom feed."""

    url: str
    type: Literal["html", "feed"] = "html"
    item: str | None = None  # CSS selector of one entry block
    link: str | None = None  # CSS selector (inside item) of the notice link; default "a"
    title: str | None = None  # CSS selector of the title; default: the link text
    date: str | None = None  # CSS selector of the listing date
    next_page: str | None = None  # CSS selector of the link to the next page
    max_pages: int = 3
    link_pattern: str | None = None  # regex a notice URL must match

    @property
    def auto(self) -> bool:
        """Only a URL was declared: the crawler finds the notice list itself."""
        return self.type == "html" and self.item is None and self.link is None


@dataclass(frozen=True)
class NoticeRule:
    """How to read a notice page."""

    body: str | None = None  # CSS selector of the body; None = main-content heuristic
    title: str | None = None
    date: str | None = None
    remove: tuple[str, ...] = ()  # CSS selectors removed before extraction (noise)
    filters: tuple[str, ...] = ()  # named text filters applied after the defaults


@dataclass(frozen=True)
class SourceDecl:
    id: str
    name: str
    authority: str
    kind: SourceKind
    listings: tuple[ListingRule, ...]
    notice: NoticeRule = field(default_factory=NoticeRule)
    jurisdiction: str = "CN"
    language: str = "zh"
    encoding: str | None = None  # forced encoding for mislabelled sites
    path: str = ""
    schedule: dict[str, Any] | None = None  # cron/interval/jitter/timezone for the scheduler
    render_js: bool = False  # render pages in chromium before reading them
    attachments: bool = True  # fetch linked PDF/DOC(X)/XLS(X) and add their text
    homepage: str = ""
    notes: str = ""


def decl_to_json(decl: SourceDecl) -> dict[str, Any]:
    """The mapping the store keeps of a declaration (its file path left out)."""
    data = dataclasses.asdict(decl)
    data.pop("path", None)
    return data


def decl_from_dict(data: dict[str, Any], path: str = "") -> SourceDecl:
    """A declaration from its validated mapping (settlewatch.source loads and checks files;
    the store keeps ``decl_to_json``'s mapping, which crawlers and tracking read back)."""
    notice = data.get("notice", {})
    return SourceDecl(
        id=data["id"],
        name=data["name"],
        authority=data["authority"],
        kind=data["kind"],
        jurisdiction=data.get("jurisdiction", "CN"),
        language=data.get("language", "zh"),
        encoding=data.get("encoding"),
        path=path,
        schedule=data.get("schedule"),
        render_js=bool(data.get("render_js", False)),
        attachments=bool(data.get("attachments", True)),
        homepage=data.get("homepage", ""),
        notes=data.get("notes", ""),
        listings=tuple(ListingRule(**listing) for listing in data["listings"]),
        notice=NoticeRule(
            body=notice.get("body"),
            title=notice.get("title"),
            date=notice.get("date"),
            remove=tuple(notice.get("remove", ())),
            filters=tuple(notice.get("filters", ())),
        ),
    )


@dataclass(frozen=True)
class ListingEntry:
    url: str
    title: str
    date: dt.date | None = None


@dataclass(frozen=True)
class ListingPage:
    entries: tuple[ListingEntry, ...]
    next_pages: tuple[str, ...]


@dataclass(frozen=True)
class Fetch:
    """One fetch of one URL as the crawler saw it (a Snapshot before it is stored)."""

    source_id: str
    url: str
    role: FetchRole
    status: int  # 0 when no HTTP response arrived
    headers: dict[str, str]
    body: bytes
    fetched_at: dt.datetime
    error: str | None = None
    listing_title: str | None = None
    listing_date: str | None = None
    parent_url: str | None = None  # for an attachment: the notice page linking it


@dataclass(frozen=True)
class Extracted:
    """What one notice page says, with noise removed."""

    title: str
    published: dt.date | None
    body: str

    def normalised(self) -> str:
        date = self.published.isoformat() if self.published else ""
        return f"{self.title}\n{date}\n{self.body}"


@dataclass(frozen=True)
class Span:
    """Evidence: matched text and where it sits in the field it was found in."""

    field: str  # "title" | "body" | "diff"
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    category: str
    weight: float
    span: Span


@dataclass(frozen=True)
class DateValue:
    """A date the notice states, with the text that states it."""

    value: str  # ISO date or datetime
    evidence: str
    year_inferred: bool = False
    # derived rather than stated: 即日起/自发布之日起 (= publish date), 次日, 节后首个工作日
    inferred: bool = False


@dataclass(frozen=True)
class Finding:
    category: str
    severity: str
    flows: tuple[str, ...]
    dates: dict[str, DateValue]
    hits: tuple[RuleHit, ...]
    confidence: float
    secondary: tuple[str, ...] = ()

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.rule_id for h in self.hits))


@dataclass(frozen=True)
class Merchant:
    id: str
    name: str
    email: str
    language: Literal["zh", "en"]
    acquirers: tuple[str, ...]
    flows: tuple[str, ...]
    channels: tuple[str, ...] = ()
    region: str = "CN"
    webhooks: tuple[str, ...] = ()  # apprise URLs for urgent alerts; ${VAR} is read at send time
    send_empty: bool = False  # send a short "nothing changed for you" digest on quiet weeks
