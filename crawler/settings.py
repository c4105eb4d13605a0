"""Scrapy settings for settlewatch crawls. Wiring by dotted path, the Scrapy way."""

BOT_NAME = "settlewatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "settlewatch/0.1 (+https://github.com/settlewatch; compliance watcher)"
ROBOTSTXT_OBEY = True

# Politeness: a few requests per host at a time, adapted to the server's latency. One spider
# crawls every source of a process, so the overall cap is wider than one host's.
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.1
AUTOTHROTTLE_MAX_DELAY = 10
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
# The extensions that run, in place of Scrapy's list: Scrapy imports every extension it lists
# even when switched off (the remote control alone pulls in aiohttp, ~0.15 s a crawl). Not
# here: the telnet console, the remote control, feed exports and spider state (unused), and
# the stock AutoThrottle, replaced by one that lets a 304 lower the delay too
# (crawler/throttle.py).
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.memdebug.MemoryDebugger": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "crawler.throttle.ConditionalAutoThrottle": 0,
}

DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
# The per-page DEBUG lines are built only when LOG_LEVEL shows them (crawler/logformat.py), and
# the versions of Scrapy's dependencies are looked up (importlib.metadata, `uname -p`) only when
# LOG_LEVEL shows INFO: crawler.process.build_settings restores Scrapy's list then.
LOG_FORMATTER = "crawler.logformat.QuietLogFormatter"
LOG_VERSIONS: list[str] = []
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

ITEM_PIPELINES = {"crawler.pipelines.SnapshotPipeline": 300}
# The pipeline is synchronous, so items gain nothing from being processed in parallel, and
# Scrapy >= 2.13 starts CONCURRENT_ITEMS asyncio tasks for every response (default 100).
CONCURRENT_ITEMS = 1
# On: Scrapy re-parses the callback's source (inspect + ast) for every response.
WARN_ON_GENERATOR_RETURN_VALUE = False
HTTPERROR_ALLOW_ALL = True  # every status becomes a Snapshot; tracking judges it

# Retries back off exponentially (and honour Retry-After) instead of re-queueing at once.
DOWNLOADER_MIDDLEWARES = {
    # no allowed_domains: notices link attachments on other hosts, and every request we make
    # is one the declaration asked for, so the offsite filter only cost each request a call
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.BodyMetaRefreshMiddleware": 580,
    # request and response counts by status: every fetch is a Snapshot with its status and
    # error already, and nothing reads these (~3 % of an unchanged re-crawl's CPU)
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
}
RETRY_BACKOFF_BASE = 0.5
RETRY_BACKOFF_MAX = 30.0
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"

# TLS certificates are verified: a watcher that accepts any certificate can be fed fakes.
DOWNLOAD_VERIFY_CERTIFICATES = True

# Each middleware costs every request and every item something; these do nothing here (no
# depth limit, no meta-copying callbacks, no HTTP auth, no feed exports, no remote control;
# HTTPERROR_ALLOW_ALL passes every status to the callbacks, so HttpError filters nothing).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
