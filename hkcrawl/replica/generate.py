"""How the replica's articles come to be: ids and times, metadata, then (lazily) content.

All randomness is seeded from the site's seed and, per article, its id (string seeds
are hashed with SHA-512: stable across runs and Python processes), so an article is
the same whatever else was generated before it.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta

from hkcrawl.replica import corpus
from hkcrawl.replica.entities import Content, Photo, Reporter, SiteArticle, Variant
from hkcrawl.sections import SECTIONS, SUBSECTIONS

#: How often each section publishes (the ones with sub-sections dominate, as on the site).
SECTION_WEIGHTS: dict[str, int] = {
    "economy": 5, "financial-market": 4, "industry": 5, "politics": 3, "society": 3, "international": 2, "it": 2,
    "realestate": 2, "life": 1, "opinion": 1, "sports": 1, "entertainment": 1, "culture": 1, "video": 1,
}  # fmt: skip
#: Publishing by hour of day (KST): quiet at night, busiest in office hours.
HOUR_WEIGHTS = (0.3,) * 6 + (1.0,) * 3 + (2.0,) * 10 + (1.2,) * 5
#: Share of articles of each kind (hankyung-site.md §4-§6; the brief's proportions).
PREMIUM_SHARE, JSONLD_SHARE, JS_RELATED_SHARE = 0.03, 0.30, 0.05
#: Related articles are picked among this many of the newest older ones.
RELATED_WINDOW = 60


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, *parts: object) -> random.Random:
        return random.Random("/".join(map(str, ("hkcrawl.replica", self.seed, *parts))))

    def reporters(self) -> dict[str, tuple[Reporter, ...]]:
        """Each section's desk: 10 reporters (correspondents abroad, editorial writers in opinion)."""
        rng = self.rng("reporters")
        pool = corpus.reporter_names(rng, 10 * len(SECTIONS))
        desks: dict[str, tuple[Reporter, ...]] = {}
        for number, section in enumerate(SECTIONS):
            desk = []
            for offset, (name, local) in enumerate(pool[number * 10 : number * 10 + 10]):
                role, dateline = "기자", None
                if section == "international" and offset % 2:
                    role, dateline = "특파원", rng.choice(corpus.DATELINES)
                elif section == "opinion":
                    role = "논설위원"
                elif offset == 9:
                    role = "선임기자"
                desk.append(Reporter(name, f"{local}@hankyung.com", role, dateline, 1000 + number * 10 + offset))
            desks[section] = tuple(desk)
        return desks

    def ids(self, count: int, end: datetime, days: int) -> list[tuple[datetime, str]]:
        """``count`` (publish time, id) pairs over the ``days`` before ``end``, oldest first."""
        rng = self.rng("ids")
        start = end - timedelta(days=days)
        hours = [start + timedelta(hours=h) for h in range(days * 24)]
        weights = [HOUR_WEIGHTS[hour.hour] for hour in hours]
        picks = rng.choices(hours, weights=weights, k=count)
        times = sorted(hour + timedelta(minutes=rng.randrange(60)) for hour in picks)
        seen: set[str] = set()
        result = []
        for moment in times:
            while True:
                # §1.1: YYYYMMDD (the publish date) + 4 digits + [0-9A-Za-z], mostly a digit.
                last = rng.choice(string.digits if rng.random() < 0.88 else string.ascii_letters)
                article_id = f"{moment:%Y%m%d}{rng.randrange(10000):04d}{last}"
                if article_id not in seen:
                    break
            seen.add(article_id)
            result.append((moment, article_id))
        return sorted(result)

    def article(self, article_id: str, published: datetime, desks: dict[str, tuple[Reporter, ...]]) -> SiteArticle:
        rng = self.rng(article_id, "meta")
        when = corpus.When(published.year, published.month, published.day)
        section = rng.choices(list(SECTIONS), weights=[SECTION_WEIGHTS.get(s, 1) for s in SECTIONS])[0]
        subs = SUBSECTIONS.get(section)
        subsection = rng.choice(list(subs)) if subs and rng.random() < 0.9 else None
        premium = rng.random() < PREMIUM_SHARE
        headline = corpus.headline(rng, section, when)
        if premium and rng.random() < 0.35:
            headline = "[마켓PRO] " + headline
        reporters = tuple(rng.sample(desks[section], rng.choices((1, 2, 3), weights=(70, 22, 8))[0]))
        photos = tuple(
            Photo(f"https://img.hankyung.com/photo/{published:%Y%m}/{rng.choice(('01', 'AA', 'AKR'))}."
                  f"{rng.randint(30_000_000, 41_999_999)}.1.jpg", corpus.caption(rng, section, when))
            for _ in range(rng.choices((0, 1, 2), weights=(35, 45, 20))[0])
        )  # fmt: skip
        thumbnail = photos[0].url if photos else None
        if not photos and rng.random() < 0.4:
            thumbnail = (
                f"https://img.hankyung.com/photo/{published:%Y%m}/01.{rng.randint(30_000_000, 41_999_999)}.3.jpg"
            )
        modified = published + timedelta(minutes=rng.randint(5, 600)) if rng.random() < 0.45 else None
        print_page = None
        if section != "video" and rng.random() < 0.35:
            print_page = f"{'B' if rng.random() < 0.1 else 'A'}{rng.randint(1, 39)}"
        return SiteArticle(
            id=article_id,
            published=published,
            section=section,
            subsection=subsection,
            headline=headline,
            reporters=reporters,
            keywords=tuple(corpus.keywords(rng, section)),
            photos=photos,
            thumbnail=thumbnail,
            premium=premium,
            jsonld=rng.random() < JSONLD_SHARE,
            js_related=rng.random() < JS_RELATED_SHARE,
            print_page=print_page,
            modified=modified,
            popularity=int(rng.paretovariate(1.2) * 100),
        )

    def content(self, article: SiteArticle, related: tuple[str, ...], source_wrap: float) -> Content:
        rng = self.rng(article.id, "body")
        when = corpus.When(article.published.year, article.published.month, article.published.day)
        paragraphs = tuple(corpus.paragraph(rng, article.section, when) for _ in range(rng.randint(3, 8)))
        summary = tuple(corpus.summary_lines(rng, article.section, when)) if rng.random() < 0.4 else ()
        variant = Variant(
            body_markup="br" if rng.random() < 0.7 else "p",
            summary_markup=rng.choice(("br", "p")),
            emails_on_one_line=rng.random() < 0.5,
            meta_section=rng.random() < 0.5,
            script_in_body=rng.random() < 0.5,
            ad_in_body=rng.random() < 0.6,
            source_wrap=rng.random() < source_wrap,
            jsonld_shape=rng.choice(("object", "object", "graph", "list")),
            jsonld_keywords_as_string=rng.random() < 0.3,
        )
        return Content(summary, paragraphs, related, variant)

    def related(self, article: SiteArticle, same_section_before: list[str], all_before: list[str]) -> tuple[str, ...]:
        """0-4 older articles (JS-filled blocks get 2+), from the same section when it has enough.

        The two lists are the newest older articles, of the section and of the site.
        """
        rng = self.rng(article.id, "related")
        count = rng.choices((0, 1, 2, 3, 4), weights=(20, 20, 25, 20, 15))[0]
        if article.js_related:
            count = max(count, 2)
        chosen = rng.sample(same_section_before, min(count, len(same_section_before)))
        others = [aid for aid in all_before if aid not in chosen]
        chosen += rng.sample(others, min(count - len(chosen), len(others)))
        return tuple(chosen)
