"""The site's top sections: URL slug -> the name the site shows.

One list for the whole project (the spider's discovery and the 2019 parser, which
only knows the section from the URL path, both read it). Slugs from
hankyung-site.md §1.3; names as shown in the site's navigation.
"""

from __future__ import annotations

SECTIONS: dict[str, str] = {
    "economy": "경제",
    "financial-market": "금융",
    "industry": "산업",
    "politics": "정치",
    "society": "사회",
    "international": "국제",
    "it": "IT",
    "realestate": "부동산",
    "life": "라이프",
    "opinion": "오피니언",
    "sports": "스포츠",
    "entertainment": "연예",
    "culture": "문화",
    "video": "영상",
}


#: Known sub-sections (``/<section>/<slug>``), §1.3. Section paths are open-ended on
#: the real site, so this lists what discovery starts from, not all that exists.
#: Slugs are from public crawler code; the Korean names of economy's and industry's
#: come from the site (notes, seed page), the others are our reading of the slug.
SUBSECTIONS: dict[str, dict[str, str]] = {
    "economy": {
        "economic-policy": "경제정책",
        "macro": "거시경제",
        "forex": "외환시장",
        "tax": "세금",
        "job-welfare": "고용복지",
    },
    "financial-market": {
        "financial-policy": "금융정책",
        "bank": "은행",
        "insurance-nbfis": "보험·2금융권",
        "cryptocurrency-fintech": "가상화폐·핀테크",
        "personal-finance": "재테크",
    },
    "industry": {
        "semicon-electronics": "반도체·전자",
        "auto-battery": "자동차·배터리",
        "ship-marine": "조선·해운",
        "steel-chemical": "철강·화학",
        "robot-future": "로봇·미래",
        "manage-business": "경영·재계",
    },
    "politics": {
        "the-presidential-office": "대통령실",
        "the-parliament-party": "국회·정당",
        "governance": "행정",
    },
    "society": {
        "administration": "사건·사고",
        "education": "교육",
        "employment": "노동",
    },
}


#: Names users may know a section by (the RSS feed names, §2.1) -> its slug.
SECTION_ALIASES: dict[str, str] = {"finance": "financial-market"}

#: Member-only or paid areas: never crawled (§1.3, §6).
PREMIUM_PATHS: tuple[str, ...] = ("/premium9", "/bioinsight", "/esg", "/my-news", "/member")

#: RSS feed names (``/feed/<name>``), §2.1.
FEEDS: tuple[str, ...] = (
    "all-news", "finance", "economy", "realestate", "it", "politics", "international",
    "society", "life", "opinion", "sports", "entertainment", "video",
)  # fmt: skip


def list_paths(selected: list[str] | None = None) -> list[str]:
    """``/<section>`` and ``/<section>/<sub>`` paths to crawl, for all sections or the
    ``selected`` ones (slugs, aliases, or ``section/sub`` paths). Unknown names raise
    ValueError naming the valid ones."""
    if not selected:
        return [f"/{slug}" for slug in SECTIONS] + [
            f"/{slug}/{sub}" for slug, subs in SUBSECTIONS.items() for sub in subs
        ]
    paths: list[str] = []
    for name in selected:
        top, _, sub = name.strip().strip("/").partition("/")
        top = SECTION_ALIASES.get(top, top)
        if top not in SECTIONS:
            aliases = ", ".join(f"{alias} (= {slug})" for alias, slug in SECTION_ALIASES.items())
            raise ValueError(
                f"unknown section {name.strip()!r}; accepts {', '.join(SECTIONS)}, aliases {aliases}, "
                "or section/sub-section (economy/macro)"
            )
        if sub and sub not in SUBSECTIONS.get(top, {}):
            known = ", ".join(f"{top}/{s}" for s in SUBSECTIONS.get(top, {})) or f"none known under {top}"
            raise ValueError(f"unknown sub-section {name.strip()!r}; accepts {known}")
        paths += [f"/{top}/{sub}"] if sub else [f"/{top}"] + [f"/{top}/{s}" for s in SUBSECTIONS.get(top, {})]
    return list(dict.fromkeys(paths))


def section_name(slug: str) -> str | None:
    return SECTIONS.get(slug.strip("/").split("/")[0].lower())
