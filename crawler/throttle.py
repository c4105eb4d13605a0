"""AutoThrottle that counts a 304 Not Modified as a success, like a 200.

Scrapy's AutoThrottle lets only a 200 lower a host's download delay, because error pages are
small and fast and would otherwise speed the crawl up. A 304 answers a conditional request we
sent on purpose and costs the server less than a 200; treated as an error it held an unchanged
re-crawl at AUTOTHROTTLE_START_DELAY per request per host (0.1 s: 42 pages took 4.2 s).
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class _Success:
    """What the stock policy reads of a response: its status (``replace()`` copies a lot)."""

    status = 200


class ConditionalAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        if response.status == 304:
            response = _Success()  # type: ignore[assignment]
        super()._adjust_delay(slot, latency, response)
