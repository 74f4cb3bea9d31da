"""Near-duplicate bodies: precision and recall on labelled pairs, index speed and memory.

    .venv/bin/python benchmarks/near_duplicates.py [--sizes 100000,1000000] [--baseline 20000]

1. Labelled pairs, built deterministically from the replica (``SiteModel(articles=3000)``),
   the article fixtures and tests/fixtures/duplicates/pairs.json. Positives are edits
   of one body (exact copy, a few words and figures changed, the lead paragraph
   replaced, a correction appended, the wire copy under another byline, a paragraph
   dropped, an edit plus a correction). Negatives are different articles: the most
   similar same-section, same-day pairs of the replica by exact Jaccard (hard), two
   articles sharing one background paragraph (hard), random pairs, all pairs of the
   article fixtures and the negatives of pairs.json. The decision is the pipeline's:
   ``NearDuplicateIndex(threshold)`` holding the first body, ``match`` on the second.
2. Index throughput and memory on synthetic distinct bodies (replica sentences
   recombined, figures redrawn, 1,000-2,000 characters): signatures are computed
   first (two processes), then ``match`` + ``add`` run alone and are timed per article.
   Only the first ``DISTINCT_BODIES`` (50,000) bodies are generated; further ones are
   their shingle-hash sets re-keyed by a bijection per version and MinHashed again
   (see ``_synthetic_signatures``), which makes a million signatures affordable.
   Memory: the index's own arrays (``memory_bytes``, exact), and the process's resident
   memory before/after (``VmRSS``, ``VmHWM`` from /proc/self/status). State file: the
   index plus one body hash per article through ``near_duplicate_store.save``/``load``.
``--baseline N`` measures the design this replaced (datasketch ``MinHashLSH`` in memory plus
a dict of ``MinHash``) at N bodies, with tracemalloc.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402

from hkcrawl.near_duplicate_store import load, save  # noqa: E402
from hkcrawl.replica import SiteModel, corpus  # noqa: E402
from hkcrawl.similarity import (  # noqa: E402
    _SEED,
    NUM_PERM,
    NearDuplicateIndex,
    jaccard,
    permutations,
    shingle_hashes,
    shingles,
    signature,
)

FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_THRESHOLD = 0.5  # HKCRAWL_NEAR_DUPLICATE_THRESHOLD
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
PER_KIND = 60  # replica articles per kind of positive
_NUMBER = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"(?<=[다요음]\.)\s+")
WIRE_REPORTERS = (("김민준", "minjun@yna.co.kr"), ("이서연", "seoyeon@newsis.com"), ("박지훈", "jihoon@news1.kr"))


@dataclass
class Pair:
    kind: str
    same: bool
    a: str
    b: str
    source: str = ""  # replica article id of ``a``, for the full-index check


# -- labelled pairs -------------------------------------------------------------------
def paragraphs_of(body: str) -> list[str]:
    return [p for p in re.split(r"\n+", body) if p.strip()]


def small_edit(body: str, rng: random.Random) -> str:
    """Three figures redrawn and two words swapped for others of the same text."""
    numbers = list(_NUMBER.finditer(body))
    for found in sorted(rng.sample(numbers, min(3, len(numbers))), key=lambda m: -m.start()):
        body = body[: found.start()] + str(int(found.group()) + rng.randint(1, 9)) + body[found.end() :]
    words = body.split(" ")
    for _ in range(2):
        words[rng.randrange(len(words))] = rng.choice(words)
    return " ".join(words)


def correction(body: str, rng: random.Random) -> str:
    figure = rng.choice(_NUMBER.findall(body) or ["3"])
    note = f"※ 바로잡습니다: 처음 보도에서 수치를 잘못 적었으나 {figure}이(가) 맞아 바로잡습니다."
    note += " 독자 여러분께 사과드립니다."
    return f"{body}\n\n{note}"


def wire_copy(body: str, other_lead: str, rng: random.Random) -> tuple[str, str]:
    """The same agency story under two bylines: another dateline, first sentence and email line."""
    first, *rest = paragraphs_of(body)
    sentences = _SENTENCE_END.split(first)
    rewritten = " ".join([_SENTENCE_END.split(other_lead)[0], *sentences[1:]])
    (name_a, mail_a), (name_b, mail_b) = rng.sample(WIRE_REPORTERS, 2)
    a = "\n\n".join([first, *rest, f"{name_a} 기자 {mail_a}"])
    b = "\n\n".join([f"(서울={name_b} 기자) {rewritten}", *rest, f"{name_b} 기자 {mail_b}"])
    return a, b


def positives(sources: list[tuple[str, list[str], str]], rng: random.Random) -> list[Pair]:
    """``sources``: (article id or fixture name, paragraphs, an unrelated paragraph of the same section)."""
    pairs = []
    for source, paragraphs, other in sources:
        body = "\n\n".join(paragraphs)
        pairs.append(Pair("exact copy", True, body, body, source))
        pairs.append(Pair("small edit (3 figures, 2 words)", True, body, small_edit(body, rng), source))
        pairs.append(Pair("correction appended", True, body, correction(body, rng), source))
        pairs.append(Pair("edit + correction", True, body, correction(small_edit(body, rng), rng), source))
        pairs.append(Pair("wire copy, other byline + lead sentence", True, *wire_copy(body, other, rng), source))
        if len(paragraphs) >= 4:
            changed = "\n\n".join([other, *paragraphs[1:]])
            pairs.append(Pair("lead paragraph replaced (4+ paragraphs)", True, body, changed, source))
            dropped = paragraphs[:]
            del dropped[rng.randrange(1, len(dropped))]
            pairs.append(Pair("one paragraph dropped (4+ paragraphs)", True, body, "\n\n".join(dropped), source))
    return pairs


def labelled_pairs(model: SiteModel, rng: random.Random) -> tuple[list[Pair], list[Pair]]:
    """(counted pairs, informational pairs not counted in precision/recall)."""
    ids = sorted(model.all_ids)
    full = {aid: list(model.content(aid).paragraphs) for aid in ids}
    visible = {aid: list(model.visible_paragraphs(aid)) for aid in ids}
    article = {aid: model.article(aid) for aid in ids}
    by_section: dict[str, list[str]] = defaultdict(list)
    for aid in ids:
        by_section[article[aid].section].append(aid)

    def other_paragraph(aid: str) -> str:
        other = rng.choice([x for x in by_section[article[aid].section] if x != aid])
        return rng.choice(full[other])

    free = [aid for aid in ids if not article[aid].premium]
    sources = [(aid, visible[aid], other_paragraph(aid)) for aid in rng.sample(free, PER_KIND)]
    fixtures = []
    for path in sorted((FIXTURES / "articles").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record and record.get("articleBody"):
            fixtures.append((path.stem, record["articleBody"]))
    for name, body in fixtures:
        unrelated = rng.choice([b for n, b in fixtures if n != name])
        sources.append((name, paragraphs_of(body), paragraphs_of(unrelated)[0]))
    pairs = positives(sources, rng)

    for pair in json.loads((FIXTURES / "duplicates/pairs.json").read_text(encoding="utf-8"))["pairs"]:
        kind = f"pairs.json {'positive' if pair['same'] else 'negative'}"
        pairs.append(Pair(kind, pair["same"], pair["a"], pair["b"]))
    for (_, first), (_, second) in itertools.combinations(fixtures, 2):
        pairs.append(Pair("article fixtures, all pairs", False, first, second))

    bodies = {aid: "\n\n".join(visible[aid]) for aid in ids}
    sets = {aid: shingles(body) for aid, body in bodies.items()}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for aid in ids:
        groups[(article[aid].section, article[aid].day)].append(aid)
    same_day = [
        (len(sets[x] & sets[y]) / len(sets[x] | sets[y]), x, y)
        for members in groups.values()
        for x, y in itertools.combinations(members, 2)
    ]
    same_day.sort(reverse=True)
    for _, x, y in same_day[:2000]:
        pairs.append(Pair("same section + day, most similar 2,000", False, bodies[x], bodies[y]))
    for x, y in (rng.sample(ids, 2) for _ in range(2000)):
        pairs.append(Pair("random pair of articles", False, bodies[x], bodies[y]))
    for x in rng.sample(free, 300):
        y = rng.choice([aid for aid in by_section[article[x].section] if aid != x and len(full[aid]) >= 3])
        shared = full[y][:]
        shared.insert(1, rng.choice(full[x]))
        pairs.append(Pair("shares one background paragraph", False, bodies[x], "\n\n".join(shared)))

    # A premium page shows 2 of its paragraphs: not "the same text" for the pipeline.
    informational = [
        Pair("premium page: 2 visible paragraphs vs full text", False, "\n\n".join(full[aid]), bodies[aid], aid)
        for aid in ids
        if article[aid].premium and len(full[aid]) >= 4
    ][:100]
    return pairs, informational


def detect(pairs: list[Pair], threshold: float, sigs: dict[str, MinHash]) -> list[bool]:
    found = []
    for pair in pairs:
        index = NearDuplicateIndex(threshold)
        index.add("a", pair.a, sigs[pair.a])
        found.append(index.match(pair.b, sigs[pair.b]) is not None)
    return found


def scores(pairs: list[Pair], predicted: list[bool]) -> tuple[float, float, float, int, int]:
    tp = sum(p.same and hit for p, hit in zip(pairs, predicted, strict=True))
    fp = sum(not p.same and hit for p, hit in zip(pairs, predicted, strict=True))
    fn = sum(p.same and not hit for p, hit in zip(pairs, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, fp, fn


def quality(articles: int) -> None:
    rng = random.Random(20241101)
    model = SiteModel(articles=articles)
    pairs, informational = labelled_pairs(model, rng)
    sigs = {text: signature(text) for p in pairs + informational for text in (p.a, p.b)}
    exact = [jaccard(p.a, p.b) for p in pairs]
    positives_n = sum(p.same for p in pairs)
    print(f"## Near-duplicate detection on {len(pairs):,} labelled pairs")
    print()
    print(f"{positives_n} positive pairs, {len(pairs) - positives_n:,} negative; replica of {articles:,} articles, ")
    print(f"{NUM_PERM} permutations. Decision: LSH candidate and estimated Jaccard >= threshold.")
    print()
    default = detect(pairs, DEFAULT_THRESHOLD, sigs)
    print(f"### By kind, threshold {DEFAULT_THRESHOLD}")
    print()
    print("| kind | label | pairs | exact Jaccard min / median / max | flagged as duplicate |")
    print("|---|---|---:|---|---:|")
    kinds: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        kinds[pair.kind].append(i)
    for kind, members in kinds.items():
        js = [exact[i] for i in members]
        flagged = sum(default[i] for i in members)
        label = "same" if pairs[members[0]].same else "different"
        spread = f"{min(js):.2f} / {statistics.median(js):.2f} / {max(js):.2f}"
        print(f"| {kind} | {label} | {len(members):,} | {spread} | {flagged:,} ({flagged / len(members):.1%}) |")
    info = detect(informational, DEFAULT_THRESHOLD, sigs)
    js = [jaccard(p.a, p.b) for p in informational]
    if informational:
        spread = f"{min(js):.2f} / {statistics.median(js):.2f} / {max(js):.2f}"
        print(
            f"| {informational[0].kind} (not counted) | — | {len(informational)} | {spread} | "
            f"{sum(info)} ({sum(info) / len(info):.1%}) |"
        )
    print()
    print("### Thresholds")
    print()
    print("| threshold | bands × rows | precision | recall | F1 | false pos. | false neg. | exact-Jaccard rule P / R |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for threshold in THRESHOLDS:
        predicted = default if threshold == DEFAULT_THRESHOLD else detect(pairs, threshold, sigs)
        precision, recall, f1, fp, fn = scores(pairs, predicted)
        oracle = scores(pairs, [j >= threshold for j in exact])
        index = NearDuplicateIndex(threshold)
        print(
            f"| {threshold} | {index.bands} × {index.rows} | {precision:.4f} | {recall:.4f} | {f1:.4f} | {fp} | {fn} "
            f"| {oracle[0]:.4f} / {oracle[1]:.4f} |"
        )
    print()
    hardest = max(j for p, j in zip(pairs, exact, strict=True) if not p.same)
    easiest = min(j for p, j in zip(pairs, exact, strict=True) if p.same)
    print(f"Most similar negative: exact Jaccard {hardest:.3f}; least similar positive: {easiest:.3f}.")
    whole_index(model, pairs, sigs)


def whole_index(model: SiteModel, pairs: list[Pair], sigs: dict[str, MinHash]) -> None:
    """Every replica article in one index, oldest first: matches are false; then the edited copies."""
    index = NearDuplicateIndex(DEFAULT_THRESHOLD)
    false_matches = []
    for aid in reversed(model.all_ids):
        body = "\n\n".join(model.visible_paragraphs(aid))
        found = index.match(body)
        if found is not None:
            false_matches.append((aid, found.article_id, found.similarity, jaccard(body, body_of(model, found))))
        index.add(aid, body)
    queries = [p for p in pairs if p.same and p.source.isdigit()]
    right = sum((m := index.match(p.b, sigs[p.b])) is not None and m.article_id == p.source for p in queries)
    print()
    print(
        f"One index of all {len(index):,} replica articles, added oldest first: {len(false_matches)} article(s) "
        f"flagged as a copy of an earlier, different one; the {len(queries)} replica-based positive copies "
        f"then find their own original in {right} cases."
    )
    for aid, earlier, estimated, true in false_matches[:5]:
        print(f"  - {aid} -> {earlier}: estimated {estimated}, exact Jaccard {true:.3f}")


def body_of(model: SiteModel, found: object) -> str:
    return "\n\n".join(model.visible_paragraphs(found.article_id))


# -- synthetic bodies ----------------------------------------------------------------
def sentence_pool(count: int = 60_000) -> list[str]:
    rng = random.Random(7)
    sections = list(corpus.ORGS)
    pool: list[str] = []
    while len(pool) < count:
        when = corpus.When(2026, rng.randint(1, 12), rng.randint(1, 28))
        pool += _SENTENCE_END.split(corpus.paragraph(rng, rng.choice(sections), when))
    return pool


_POOL: list[str] = []
#: Bodies generated and shingled for real; index sizes above this reuse their shingle sets re-keyed.
DISTINCT_BODIES = 50_000
_REKEY = np.random.default_rng(99).integers(0, 2**32, size=(4096, 2), dtype=np.uint64) | np.uint64(1)


def _body(number: int) -> str:
    """Synthetic body ``number``: replica sentences recombined, figures redrawn, 1,000-2,000 characters."""
    rng = random.Random(number)
    target, sentences = rng.randint(1000, 2000), []
    while sum(map(len, sentences)) < target:
        sentences.append(rng.choice(_POOL))
    paragraphs = [" ".join(sentences[j : j + 3]) for j in range(0, len(sentences), 3)]
    return _NUMBER.sub(lambda _, rng=rng: str(rng.randint(1, 9999)), "\n\n".join(paragraphs))


def _synthetic_signatures(task: tuple[int, int, int]) -> np.ndarray:
    """Signatures of bodies ``start``..``stop`` of the distinct pool, each in ``copies`` versions.

    Version 0 is ``signature(body)``. Version k > 0 is the datasketch MinHash (same
    permutations as :func:`signature`) of the body's shingle hashes mapped through the
    bijection ``x -> (m_k * x + c_k) mod 2**32``: a set of the same size and, among
    bodies of one version, the same overlaps, but of unrelated hash values, so an
    independent-looking signature with the value distribution of a real one.
    Returns an array (copies, stop - start, NUM_PERM) of uint32.
    """
    start, stop, copies = task
    if not _POOL:
        _POOL.extend(sentence_pool())
    out = np.empty((copies, stop - start, NUM_PERM), dtype=np.uint32)
    low32 = np.uint64(0xFFFFFFFF)
    for i in range(stop - start):
        hashes = shingle_hashes(_body(start + i)).astype(np.uint64)
        for version in range(copies):
            if version:
                multiplier, offset = _REKEY[version]
                keyed = (hashes * multiplier + offset) & low32
            else:
                keyed = hashes
            minhash = MinHash(
                num_perm=NUM_PERM, seed=_SEED, hashfunc=int, permutations=permutations(), scheme="affine32"
            )
            minhash.update_batch(keyed.tolist())
            out[version, i] = minhash.hashvalues
    return out


def synthetic(size: int, distinct: int = DISTINCT_BODIES, batch: int = 1_000) -> np.ndarray:
    """``size`` distinct signatures: ``min(size, distinct)`` real bodies, re-keyed versions for the rest.

    Row ``version * distinct + body``, so the first ``distinct`` rows are real bodies.
    """
    distinct = min(size, distinct)
    copies = -(-size // distinct)
    tasks = [(start, min(start + batch, distinct), copies) for start in range(0, distinct, batch)]
    if not _POOL:
        _POOL.extend(sentence_pool())  # before the fork: the workers share it
    out = np.empty((copies * distinct, NUM_PERM), dtype=np.uint32)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for (start, stop, _), part in zip(tasks, pool.imap(_synthetic_signatures, tasks), strict=True):
            for version in range(copies):
                out[version * distinct + start : version * distinct + stop] = part[version]
    return out[:size]


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def throughput(sizes: list[int]) -> None:
    print()
    print("## Index throughput and memory (synthetic distinct bodies)")
    print()
    print(
        f"Signatures: the first {DISTINCT_BODIES:,} bodies are generated (replica sentences recombined, figures "
        "redrawn, 1,000-2,000 characters) and signed with `signature()`; beyond that, body j of version k is "
        f"body j mod {DISTINCT_BODIES:,}'s set of shingle hashes mapped through a per-version bijection "
        "x -> (m_k x + c_k) mod 2^32 and MinHashed by datasketch with the same permutations: distinct, "
        "independent-looking signatures with the value distribution of real ones, at the MinHash cost only. "
        "The signature column is that generation time per article (two processes), not the cost of "
        "`signature()` on one body; the index sees only the precomputed MinHash."
    )
    print()
    print(
        "| bodies | signature ms/article (2 procs) | match+add ms/article: mean / p50 / p99 | last 10k mean "
        "| index arrays | RSS growth | peak RSS | false matches | state file MB / save s / load s |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for size in sizes:
        started = time.perf_counter()
        hashvalues = synthetic(size)
        sig_ms = (time.perf_counter() - started) / size * 1e3
        minhashes = (
            MinHash(seed=_SEED, hashvalues=row, permutations=permutations(), scheme="affine32") for row in hashvalues
        )
        index = NearDuplicateIndex(DEFAULT_THRESHOLD, window=max(size, 1))
        rss_before = _status("VmRSS")
        times = np.empty(size)
        matches = 0
        clock = time.perf_counter
        for i, minhash in enumerate(minhashes):
            aid = f"{20260000000000 + i}"
            t0 = clock()
            found = index.match("", minhash)
            index.add(aid, "", minhash)
            times[i] = clock() - t0
            matches += found is not None
        rss_after = _status("VmRSS")
        # The state file as a crawl leaves it: the index plus one body hash per article (fsync included).
        by_hash = OrderedDict((f"sha256:{i:064x}", f"{20260000000000 + i}") for i in range(size))
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "near_duplicates.npz"
            t0 = clock()
            save(path, index, by_hash)
            save_s = clock() - t0
            file_mb = path.stat().st_size / 2**20
            t0 = clock()
            loaded, _ = load(path, DEFAULT_THRESHOLD, max(size, 1))
            load_s = clock() - t0
        assert len(loaded) == len(index)
        ms = times * 1e3
        print(
            f"| {size:,} | {sig_ms:.3f} | {ms.mean():.3f} / {np.median(ms):.3f} / {np.percentile(ms, 99):.3f} "
            f"| {ms[-10_000:].mean():.3f} | {index.memory_bytes / 2**20:,.0f} MB "
            f"({index.memory_bytes / size:.0f} B/article) | {(rss_after - rss_before) / 2**20:,.0f} MB "
            f"| {_status('VmHWM') / 2**20:,.0f} MB | {matches} "
            f"| {file_mb:,.0f} / {save_s:.1f} / {load_s:.1f} |"
        )
        del index, loaded, by_hash, hashvalues
        sys.stdout.flush()


def baseline(size: int) -> None:
    """The replaced design: MinHashLSH (dict storage) + {id: MinHash}, as hkcrawl had it."""
    hashvalues = synthetic(size)
    tracemalloc.start()
    lsh, kept = MinHashLSH(threshold=DEFAULT_THRESHOLD, num_perm=NUM_PERM), {}
    started = time.perf_counter()
    for i, row in enumerate(hashvalues):
        minhash = MinHash(num_perm=NUM_PERM)  # as signature() made them: own permutations per object
        minhash.hashvalues = row.copy()
        for candidate in lsh.query(minhash):
            minhash.jaccard(kept[candidate])
        lsh.insert(str(i), minhash)
        kept[str(i)] = minhash
    elapsed = time.perf_counter() - started
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print()
    print(
        f"Replaced design (datasketch MinHashLSH in memory + dict of MinHash) at {size:,} bodies: "
        f"{used / size:,.0f} B/article by tracemalloc (≈ {used / size * 1e6 / 2**30:.1f} GB at a million), "
        f"{elapsed / size * 1e3:.3f} ms/article for query+insert (slowed by tracemalloc)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated index sizes (default: 100000)")
    parser.add_argument("--articles", type=int, default=3000, help="replica articles for the labelled pairs")
    parser.add_argument("--baseline", type=int, default=20000, help="bodies for the replaced design (0: skip)")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    print(f"_{datetime.now():%Y-%m-%d %H:%M}, {multiprocessing.cpu_count()} CPUs, numpy {np.__version__}_")
    print()
    if not args.skip_quality:
        quality(args.articles)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        throughput(sizes)
    if args.baseline:
        baseline(args.baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
