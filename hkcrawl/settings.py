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
# Not more in total either: extra requests would only wait in the downloader's queue
# for the host, where a stop (max_articles, a block, Ctrl-C) cannot take them back;
# each would still be fetched, 2 s apart, before the crawl could close.
CONCURRENT_REQUESTS = 1
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
# hankyung.com redirects with HTTP 301/302 only (hankyung-site.md §1); a <meta refresh>
# would come from an interstitial, not worth following, and looking for one decodes
# and scans every page (2% of a crawl's CPU).
METAREFRESH_ENABLED = False

TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote-control server runs Python sent to a local port and writes a
# job file to the user's profile; a cron crawler needs neither. (Like the telnet console
# above, also taken out of EXTENSIONS below.)
REMOTE_CONTROL_ENABLED = False
# Scrapy's collector pays a deprecation shim on every stats call (hkcrawl/stats.py).
STATS_CLASS = "hkcrawl.stats.PlainStatsCollector"

# Cloudflare challenges (hankyung-site.md §6): retry a blocked request this many
# times, doubling the host's delay from HKCRAWL_BLOCK_BACKOFF seconds up to the cap;
# after this many challenges in a row the crawl stops (reason "blocked", exit 3).
HKCRAWL_BLOCK_RETRIES = 2
HKCRAWL_BLOCK_BACKOFF = 30.0
HKCRAWL_BLOCK_MAX_DELAY = 600.0
HKCRAWL_MAX_CONSECUTIVE_BLOCKS = 8

# Only http(s): a sitemap index (or anything else) naming file:///dev/zero or ftp://
# must not make the crawler read local files or hang on FTP. (hkcrawl/browser.py
# keeps these off when rendering replaces the http(s) handlers.)
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

# A 429/503 with Retry-After is retried no sooner than that; a longer wait than this
# (seconds) gives the request up instead of holding the crawl.
HKCRAWL_MAX_RETRY_AFTER = 600.0

DOWNLOADER_MIDDLEWARES = {
    # First of all, before RobotsTxtMiddleware (100) so an off-site request never
    # fetches that host's robots.txt. Redirect hops, retries and robots.txt requests
    # all pass through every process_request again, so this sees every request.
    "hkcrawl.middlewares.offsite.OffsiteGuardMiddleware": 40,
    # Between a challenge (590) and RetryMiddleware (550): a challenge is handled as a
    # block first; a plain 429/503 with Retry-After is retried here after the wait,
    # before RetryMiddleware would retry it at once.
    "hkcrawl.middlewares.retry_after.RetryAfterMiddleware": 570,
    # Between RetryMiddleware (550) and the downloader, so it sees every attempt's
    # connection error before Retry repeats it: an unreachable site stops the run at once.
    "hkcrawl.middlewares.reachability.ReachabilityMiddleware": 580,
    # Above RetryMiddleware (550), so a 503 challenge is seen as a block, not retried blindly.
    "hkcrawl.middlewares.challenge.ChallengeMiddleware": 590,
}

EXTENSIONS = {
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.telnet.TelnetConsole": None,
    # Owns the run: lock, state, output file, near-duplicate index storage, verdict, report.
    "hkcrawl.run.Run": 500,
    # A live status line on a terminal, a plain "Progress:" line in a log (hkcrawl/progress.py).
    "hkcrawl.progress.Progress": 510,
}
# Seconds between redraws of the terminal's status line (stderr a TTY); 0: none.
HKCRAWL_PROGRESS_REFRESH = 1.0
# Seconds between "Progress:" lines in the log (LOG_FILE, or stderr not a terminal; so
# hkcrawl cron writes them to its log file only); 0: none. Scrapy's own LogStats line
# comes every LOGSTATS_INTERVAL (60 s) beside it.
HKCRAWL_PROGRESS_INTERVAL = 60.0

# Scrapy starts CONCURRENT_ITEMS asyncio worker tasks for the output of *every*
# response (default 100), whatever its size; our callbacks yield one article or ~20
# links, and the pipelines are synchronous. 4 cut the crawl's CPU per page by a
# third in benchmarks/crawl.py.
CONCURRENT_ITEMS = 4
# Scrapy re-reads and parses our callbacks' source (ast) to warn about `return value`
# in generators; its cache misses on bound methods, so this cost ~7% of the crawl's
# CPU. ruff and the tests cover that mistake instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

# Each spider middleware wraps every callback's output in one more async generator.
# Depth is unused: the spider counts related-article steps itself (-a related_depth),
# and nothing sets DEPTH_LIMIT. (Referer stays: redirects need it, and warn without it.)
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}

ITEM_PIPELINES = {
    # Clean first: validation must judge the body as it will be exported.
    "hkcrawl.pipelines.clean.CleanPipeline": 100,
    # Then drop records missing required fields, so they never reach dedupe's memory.
    "hkcrawl.pipelines.validate.ValidatePipeline": 200,
    # Last: only a valid record may claim an article id.
    "hkcrawl.pipelines.dedupe.DuplicateArticlePipeline": 300,
    # The same story under another id: after the id check, so an article is never
    # compared with itself from another URL form.
    "hkcrawl.pipelines.near_duplicates.NearDuplicatePipeline": 400,
    # Very last: counts exactly what will be exported, for -a max_articles.
    "hkcrawl.pipelines.limit.ArticleLimitPipeline": 900,
}

# Output: each run writes data/hankyung/<UTC start>.jsonl (via a .part file renamed
# when complete) and <UTC start>.report.json beside it (hkcrawl/run.py). With
# -o/-O the named feed is written instead. JSON Lines, UTF-8, Korean kept readable
# (Scrapy writes \uXXXX escapes unless an encoding is set).
FEED_EXPORT_ENCODING = "utf-8"
# Same bytes as Scrapy's JSON Lines exporter, a quarter of the CPU (hkcrawl/exporters.py).
FEED_EXPORTERS = {name: "hkcrawl.exporters.DataclassJsonLinesExporter" for name in ("jsonlines", "jsonl", "jl")}
# -O FILE is written beside FILE and renamed over it at the end, and only by a run that
# opened: a run that finds another one holding the lock leaves FILE untouched (Scrapy's
# own storage empties FILE first thing; hkcrawl/feed_storage.py).
FEED_STORAGES = {scheme: "hkcrawl.feed_storage.ReplacingFileFeedStorage" for scheme in ("", "file")}
HKCRAWL_OUTPUT_DIR = "data/hankyung"
HKCRAWL_OUTPUT_GZIP = False
# Where a relative HKCRAWL_OUTPUT_DIR / HKCRAWL_STATE_DIR lives. Empty: the project root
# (the directory of the scrapy.cfg found from the working directory), so a crawl
# started in a subfolder shares the runs' files; outside a project, the working
# directory. `hkcrawl cron --dir DIR` and `hkcrawl check --dir DIR` set it to DIR.
HKCRAWL_BASE_DIR = ""
# Records are fsync'd, then marked known in the state, at least this often.
HKCRAWL_CHECKPOINT_ITEMS = 50
HKCRAWL_CHECKPOINT_SECONDS = 5.0

# Incremental state: what earlier runs exported and failed (SQLite); the run locks
# this directory itself (hkcrawl/lock.py).
HKCRAWL_STATE_ENABLED = True
HKCRAWL_STATE_DIR = "state"
# Articles a run tried and could not save are fetched again by every later run until
# saved, or given up (hkcrawl/state.py GiveUpRule): 404/410 answered twice at least
# this many hours apart, or any failure after this many runs spanning this many days.
HKCRAWL_RETRY_FAILED = True
HKCRAWL_GIVE_UP_GONE_HOURS = 24.0
HKCRAWL_GIVE_UP_ATTEMPTS = 10
HKCRAWL_GIVE_UP_DAYS = 7.0
# Edits (a new 수정 time) are found through the daily sitemaps of this many of the
# newest days in the latest sitemap; articles edited later than that are not refetched.
HKCRAWL_UPDATE_DAYS = 2
# How a rerun with the default discovery (sitemap + sections) finds what is new
# (hkcrawl/discovery.py, README "Scheduled runs"). "economical": when the latest
# sitemap reaches back past the newest known article, it lists everything new, so the
# section lists are skipped and one list page (/all-news) checks the sitemap missed
# nothing; otherwise the lists are walked. "thorough": always walk the lists.
HKCRAWL_DISCOVERY = "economical"

# JavaScript rendering (-a render=never|auto|always; hkcrawl/browser.py). The browser
# is Debian's chromium, found automatically; CHROMIUM_PATH (setting or environment
# variable) overrides. Browser pages at once, separate from CONCURRENT_REQUESTS:
HKCRAWL_RENDER_CONCURRENCY = 4
# When a rendered page is read. The related block is filled by an inline script as the
# page is parsed, so DOMContentLoaded suffices; use "load" or "networkidle" for parts
# that arrive later by XHR.
HKCRAWL_RENDER_WAIT_UNTIL = "domcontentloaded"
# In auto mode at most this share of article pages (after the first few) is rendered.
HKCRAWL_RENDER_MAX_SHARE = 0.2
HKCRAWL_RENDER_MIN_BUDGET = 20
CHROMIUM_PATH = None

# Same body under another article id: "annotate" (duplicateOf/duplicateSimilarity),
# "drop", or "off". Similarity is the estimated Jaccard of 4-character shingles.
HKCRAWL_DUPLICATES = "annotate"
HKCRAWL_NEAR_DUPLICATE_THRESHOLD = 0.5
# Bodies remembered for comparison (most recent first out): ~500 bytes each, so about
# 0.5 GB at the default million. Copies of news come within days, not years. With
# HKCRAWL_REDIS_URL the window bounds the shared index in Redis instead (~1 KB each);
# every worker must use the same threshold and window.
HKCRAWL_NEAR_DUPLICATE_WINDOW = 1_000_000
# Ids and URLs a crawl keeps to avoid repeating work within the run (a link met again,
# a retry, a re-render): the latest this many (~200 bytes each, hkcrawl/recent.py), so
# a distributed worker's memory stays flat over a back-fill of any length. 10,000 is
# hours of requests at the live site's pace; retries and re-renders come within
# seconds. A repeat met later is dropped by the request filter. (Without Redis the
# spider keeps every article id it asked for, as Scrapy's request filter keeps every request.)
HKCRAWL_RECENT_KEYS = 10_000

# When a finished crawl still counts as failed (exit status 1, report "failed";
# hkcrawl/verdict.py): besides no page reached, every URL failed, or no article link found,
HKCRAWL_MAX_ERROR_RATE = 0.2  # share of distinct URLs tried that finally failed
# Articles tried and not saved (they are fetched again by the next run). 0: any such
# article makes the run count as failed, so a dataset never silently lacks one.
HKCRAWL_MAX_UNSAVED_ARTICLES = 0
# Connection failures (DNS, refused, connect timeout) before any answer at all after
# which the site counts as unreachable and the run stops; 0 disables.
HKCRAWL_UNREACHABLE_AFTER = 3
HKCRAWL_MIN_VALID_RATE = 0.8  # share of article pages giving a valid record (layout drift)
HKCRAWL_EXPECT_NEW_WITHIN_HOURS = 24.0  # hankyung publishes every hour; 0 disables

# A dropped record is logged by its reason (which names it), not its whole body.
LOG_FORMATTER = "hkcrawl.logformatter.ConciseLogFormatter"

# Distributed mode (README "Several workers (Redis)"): a redis:// URL makes this crawl one
# of any number of workers sharing one request queue and one seen-set in Redis
# (scrapy-redis; hkcrawl/distributed.py). Empty: a crawl of its own, Redis not needed.
HKCRAWL_REDIS_URL = ""
# Seconds between writes of a worker's counters to hankyung:stats:<host>:<pid>, which
# `hkcrawl watch` reads (hkcrawl/worker_stats.py); and how long the hash outlives the
# last write: a worker silent that long is shown as gone (it died).
HKCRAWL_REDIS_STATS_INTERVAL = 5.0
HKCRAWL_REDIS_STATS_TTL = 30
# Seconds a worker's "still working" mark lives in Redis unless refreshed: how long the
# others wait for a worker that died before they close.
HKCRAWL_REDIS_BUSY_TTL = 30
# Seconds a worker's heartbeat lives in Redis unless refreshed (every third of it, even when
# idle): once it expired, another worker puts the requests the dead one held back in the queue.
HKCRAWL_REDIS_WORKER_TTL = 30
# Add-ons decide settings before they freeze: the one above switches the scheduler.
ADDONS = {"hkcrawl.distributed.RedisFrontier": 0}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
