"""The generic notice spider: fetch listings, follow notice links, yield every fetch.

It decides nothing about content: every response, error page included, becomes a Fetch item
that the pipeline stores as a Snapshot. Tracking judges them later from the store.

One spider crawls one or several runs (one source each): one Scrapy Crawler per process costs
its set-up once, and hosts shared by several sources share one politeness slot.
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
from crawler.plan import CrawlPlan, load_plans, parse_run_ids
from settlewatch.attachment import attachment_links
from settlewatch.decode import decode_html
from settlewatch.listing import parse_listing
from settlewatch.models import Fetch, FetchRole

MAX_ATTACHMENTS = 10  # per notice page
NO_PRIOR = (None, None, "", "")


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


class NoticeSpider(scrapy.Spider):
    """Arguments: ``run_id`` (a crawl run created by settlewatch, or several separated by
    commas) and ``db`` (its database URL; default: the SETTLEWATCH_DB setting). Scrapyd passes
    both as strings."""

    name = "notices"
    plans: dict[int, CrawlPlan]

    def __init__(self, run_id: int | str, db: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_ids = parse_run_ids(run_id)
        self.db_url = db
        self.today = dt.date.today()
        self.seen: dict[int, set[str]] = {r: set() for r in self.run_ids}

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
        spider.plans = load_plans(spider.db_url, spider.run_ids)
        return spider

    def _request(
        self, plan: CrawlPlan, url: str, callback: Any, role: FetchRole, **meta: Any
    ) -> scrapy.Request | None:
        """A request for ``url`` in ``plan``'s run, or None when the run already asked for it.

        Runs deduplicate their own URLs (Scrapy's filter would also drop a URL that another
        source of this process lists, leaving that source without its notice).
        """
        seen = self.seen[plan.run_id]
        if url in seen:
            return None
        seen.add(url)
        headers = {}
        etag, modified, _, _ = plan.prior.get(url, NO_PRIOR)
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,
            meta={
                "run": plan.run_id,
                "role": role,
                "handle_httpstatus_all": True,
                # only pages need a browser; attachments are plain downloads
                "playwright": plan.decl.render_js and role != "attachment",
                **meta,
            },
        )

    async def start(self) -> Any:
        for plan in self.plans.values():
            for i, rule in enumerate(plan.decl.listings):
                request = self._request(
                    plan, rule.url, self.parse_listing, "listing", rule=i, page=1
                )
                if request is not None:
                    yield request

    def _fetch(self, plan: CrawlPlan, response: Response, role: FetchRole) -> Fetch:
        meta = response.meta
        return Fetch(
            source_id=plan.decl.id,
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
        plan = self.plans[response.meta["run"]]
        yield self._fetch(plan, response, "listing")
        body = response.body
        if response.status == 304:
            body = plan.blobs.get(plan.prior.get(response.url, NO_PRIOR)[2], b"")
        elif response.status != 200:
            return
        rule = plan.decl.listings[response.meta["rule"]]
        text = decode_html(body, _content_type(response), plan.decl.encoding)
        page = parse_listing(rule, response.url, body, text, self.today)
        requests = [
            self._request(
                plan,
                entry.url,
                self.parse_notice,
                "notice",
                entry_url=entry.url,
                listing_title=entry.title,
                listing_date=entry.date.isoformat() if entry.date else None,
            )
            for entry in page.entries
        ]
        if response.meta["page"] < rule.max_pages:
            requests += [
                self._request(
                    plan,
                    nxt,
                    self.parse_listing,
                    "listing",
                    rule=response.meta["rule"],
                    page=response.meta["page"] + 1,
                )
                for nxt in page.next_pages
            ]
        yield from (r for r in requests if r is not None)

    def parse_notice(self, response: Response) -> Iterator[Any]:
        plan = self.plans[response.meta["run"]]
        yield self._fetch(plan, response, "notice")
        if response.status != 200 or not plan.decl.attachments:
            return
        text = decode_html(response.body, _content_type(response), plan.decl.encoding)
        for url in attachment_links(text, response.url)[:MAX_ATTACHMENTS]:
            request = self._request(
                plan,
                url,
                self.parse_attachment,
                "attachment",
                entry_url=url,
                parent_url=response.meta["entry_url"],
            )
            if request is not None:
                yield request

    def parse_attachment(self, response: Response) -> Iterator[Fetch]:
        yield self._fetch(self.plans[response.meta["run"]], response, "attachment")

    def on_error(self, failure: Failure) -> Iterator[Fetch]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        yield Fetch(
            source_id=self.plans[meta["run"]].decl.id,
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
