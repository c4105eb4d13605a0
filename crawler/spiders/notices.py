"""The generic notice spider: fetch listings, follow notice links, yield every fetch.

It decides nothing about content: every response, error page included, becomes a Fetch item
that the pipeline stores as a Snapshot. Tracking judges them later from the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.browser import enable_playwright
from crawler.plan import load_plan
from settlewatch.attachment import attachment_links
from settlewatch.decode import decode_html
from settlewatch.listing import parse_listing
from settlewatch.models import Fetch, FetchRole, SourceDecl
from settlewatch.store.crawls import Prior

MAX_ATTACHMENTS = 10  # per notice page


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }


class NoticeSpider(scrapy.Spider):
    """Arguments: ``run_id`` (a crawl run created by settlewatch) and ``db`` (its database URL;
    default: the SETTLEWATCH_DB setting). Scrapyd passes both as strings."""

    name = "notices"
    decl: SourceDecl
    prior: Prior
    blobs: dict[str, bytes]  # bodies of listings that may answer 304

    def __init__(self, run_id: int | str, db: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id = int(run_id)
        self.db_url = db
        self.today = dt.date.today()

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if settings.getbool("SETTLEWATCH_RENDER_JS"):
            enable_playwright(settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NoticeSpider:
        spider: NoticeSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.db_url = spider.db_url or crawler.settings.get("SETTLEWATCH_DB")
        if not spider.db_url:
            raise ValueError("the notices spider needs db=<database URL> or SETTLEWATCH_DB")
        plan = load_plan(spider.db_url, spider.run_id)
        spider.decl, spider.prior, spider.blobs = plan.decl, plan.prior, plan.blobs
        return spider

    def _request(self, url: str, callback: Any, role: FetchRole, **meta: Any) -> scrapy.Request:
        headers = {}
        etag, modified, _, _ = self.prior.get(url, (None, None, "", ""))
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            headers=headers,
            meta={
                "role": role,
                "handle_httpstatus_all": True,
                # only pages need a browser; attachments are plain downloads
                "playwright": self.decl.render_js and role != "attachment",
                **meta,
            },
        )

    async def start(self) -> Any:
        for i, rule in enumerate(self.decl.listings):
            yield self._request(rule.url, self.parse_listing, "listing", rule=i, page=1)

    def _fetch(self, response: Response, role: FetchRole) -> Fetch:
        meta = response.meta
        return Fetch(
            source_id=self.decl.id,
            url=response.url if role == "listing" else meta["entry_url"],
            role=role,
            status=response.status,
            headers=_headers(response),
            body=response.body,
            fetched_at=dt.datetime.now(dt.UTC),
            listing_title=meta.get("listing_title"),
            listing_date=meta.get("listing_date"),
            parent_url=meta.get("parent_url"),
        )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        yield self._fetch(response, "listing")
        body = response.body
        if response.status == 304:
            body = self.blobs.get(self.prior.get(response.url, (None, None, "", ""))[2], b"")
        elif response.status != 200:
            return
        rule = self.decl.listings[response.meta["rule"]]
        text = decode_html(
            body,
            (response.headers.get("Content-Type") or b"").decode("latin-1"),
            self.decl.encoding,
        )
        page = parse_listing(rule, response.url, body, text, self.today)
        for entry in page.entries:
            yield self._request(
                entry.url,
                self.parse_notice,
                "notice",
                entry_url=entry.url,
                listing_title=entry.title,
                listing_date=entry.date.isoformat() if entry.date else None,
            )
        if response.meta["page"] < rule.max_pages:
            for nxt in page.next_pages:
                yield self._request(
                    nxt,
                    self.parse_listing,
                    "listing",
                    rule=response.meta["rule"],
                    page=response.meta["page"] + 1,
                )

    def parse_notice(self, response: Response) -> Iterator[Any]:
        yield self._fetch(response, "notice")
        if response.status != 200 or not self.decl.attachments:
            return
        text = decode_html(
            response.body,
            (response.headers.get("Content-Type") or b"").decode("latin-1"),
            self.decl.encoding,
        )
        for url in attachment_links(text, response.url)[:MAX_ATTACHMENTS]:
            yield self._request(
                url,
                self.parse_attachment,
                "attachment",
                entry_url=url,
                parent_url=response.meta["entry_url"],
            )

    def parse_attachment(self, response: Response) -> Iterator[Fetch]:
        yield self._fetch(response, "attachment")

    def on_error(self, failure: Failure) -> Iterator[Fetch]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        yield Fetch(
            source_id=self.decl.id,
            url=meta.get("entry_url", request.url),
            role=meta.get("role", "notice"),
            status=0,
            headers={},
            body=b"",
            fetched_at=dt.datetime.now(dt.UTC),
            error=f"{getattr(failure.type, '__name__', 'Error')}: {failure.getErrorMessage()}"[
                :500
            ],
            listing_title=meta.get("listing_title"),
            listing_date=meta.get("listing_date"),
            parent_url=meta.get("parent_url"),
        )
