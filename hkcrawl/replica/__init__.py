"""A local, deterministic hankyung.com for offline crawls (tests, demos, benchmarks).

``SiteModel`` is the site as data (articles, lists, a movable clock, what a correct
extraction of each article gives); ``ReplicaServer`` serves it over HTTP in the
site's documented markup. Point the spider at it with
``-s HANKYUNG_BASE_URL=<replica.base_url>``; nothing else changes.
"""

from hkcrawl.replica.challenge import ChallengePolicy
from hkcrawl.replica.faults import FaultPlan
from hkcrawl.replica.model import KST, SiteArticle, SiteModel
from hkcrawl.replica.server import ArticleAvailability, ReplicaServer, RequestLog, RequestRecord

__all__ = [
    "KST", "ArticleAvailability", "ChallengePolicy", "FaultPlan", "ReplicaServer", "RequestLog", "RequestRecord",
    "SiteArticle", "SiteModel",
]  # fmt: skip
