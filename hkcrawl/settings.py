"""hkcrawl's Scrapy settings: the one place for configuration.

Everything here can be overridden per run with ``-s NAME=VALUE``. Defaults are for
the live site: slow and polite (hankyung.com sits behind Cloudflare, which
challenges a fourth rapid request, hankyung-site.md §6).
"""

from hkcrawl import __version__

BOT_NAME = "hkcrawl"
SPIDER_MODULES = ["hkcrawl.spiders"]
NEWSPIDER_MODULE = "hkcrawl.spiders"
# Our `crawl` replaces Scrapy's so that a failed crawl exits non-zero.
COMMANDS_MODULE = "hkcrawl.commands"

# Where the site lives. Only this changes to crawl the local replica
# (-s HANKYUNG_BASE_URL=http://127.0.0.1:8000); every code path stays the same.
HANKYUNG_BASE_URL = "https://www.hankyung.com"

# Honest identification with a way to reach the operator; put your own contact
# here (-s USER_AGENT=...) when running at any scale.
USER_AGENT = f"hkcrawl/{__version__} (+https://github.com/hkcrawl/hkcrawl; Korean news research crawler)"
ROBOTSTXT_OBEY = True

# Politeness: one request at a time per host, >= 2 s apart, slower when the site is.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50%, so requests do not tick like a metronome
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# A real article page is ~86 kB (§3.1); anything past 10 MB is not one.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 2

TELNETCONSOLE_ENABLED = False

# Cloudflare challenges (hankyung-site.md §6): retry a blocked request this many
# times, doubling the host's delay from HKCRAWL_BLOCK_BACKOFF seconds up to the cap;
# after this many challenges in a row the crawl stops (reason "blocked", exit 3).
HKCRAWL_BLOCK_RETRIES = 2
HKCRAWL_BLOCK_BACKOFF = 30.0
HKCRAWL_BLOCK_MAX_DELAY = 600.0
HKCRAWL_MAX_CONSECUTIVE_BLOCKS = 8

DOWNLOADER_MIDDLEWARES = {
    # Above RetryMiddleware (550), so a 503 challenge is seen as a block, not retried blindly.
    "hkcrawl.middlewares.challenge.ChallengeMiddleware": 590,
}

EXTENSIONS = {
    "hkcrawl.extensions.summary.CrawlSummary": 500,
}

# Scrapy starts CONCURRENT_ITEMS asyncio worker tasks for the output of *every*
# response (default 100), whatever its size; our callbacks yield one article or ~20
# links, and the pipelines are synchronous. 4 cut the crawl's CPU per page by a
# third in benchmarks/crawl.py.
CONCURRENT_ITEMS = 4

ITEM_PIPELINES = {
    # Clean first: validation must judge the body as it will be exported.
    "hkcrawl.pipelines.clean.CleanPipeline": 100,
    # Then drop records missing required fields, so they never reach dedupe's memory.
    "hkcrawl.pipelines.validate.ValidatePipeline": 200,
    # Last: only a valid record may claim an article id.
    "hkcrawl.pipelines.dedupe.DuplicateArticlePipeline": 300,
    # Very last: counts exactly what will be exported, for -a max_articles.
    "hkcrawl.pipelines.limit.ArticleLimitPipeline": 900,
}

# JSON Lines, UTF-8, Korean kept readable (Scrapy writes \uXXXX escapes unless an
# encoding is set). When no feed is given (-o/-O/FEEDS), the spider writes this
# dated file per run. It is not put in FEEDS here, because Scrapy adds -o/-O to
# FEEDS rather than replacing it: every run would also write the default file.
FEED_EXPORT_ENCODING = "utf-8"
HKCRAWL_DEFAULT_FEED = "data/%(name)s/%(time)s.jsonl"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
