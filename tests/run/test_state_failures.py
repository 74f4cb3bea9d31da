"""Failed articles in the state: one attempt per run, the give-up rule, forgetting what no file holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hkcrawl.state import Exported, GiveUpRule, StateStore

RULE = GiveUpRule(gone_hours=24, attempts=3, days=2)


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "state.sqlite3")
    yield store
    store.close()


def _attempts(state: StateStore) -> dict[str, tuple[str, int]]:
    return {f.article_id: (f.reason, f.attempts) for f in state.failures(include_given_up=True)}


def test_a_run_counts_one_attempt_however_often_it_records(state: StateStore) -> None:
    for _ in range(3):  # every checkpoint of run A records its failures again
        state.record_failures([("2024110100011", "u", "http_500")], "2024-11-01T00:00:00Z", "run-a")
    state.record_failures([("2024110100011", "u", "timeout")], "2024-11-01T03:00:00Z", "run-b")
    assert _attempts(state) == {"2024110100011": ("timeout", 2)}


def test_pending_articles_are_remembered_without_an_attempt(state: StateStore) -> None:
    state.mark_pending([("2024110100011", "u")], "2024-11-01T00:00:00Z")
    state.mark_pending([("2024110100011", "u")], "2024-11-01T00:00:00Z")
    assert _attempts(state) == {"2024110100011": ("interrupted", 0)}
    state.record_failures([("2024110100011", "u", "http_503")], "2024-11-01T00:00:01Z", "run-a")
    assert _attempts(state) == {"2024110100011": ("http_503", 1)}


def test_saving_an_article_forgets_its_failure(state: StateStore) -> None:
    state.record_failures([("2024110100011", "u", "http_500")], "2024-11-01T00:00:00Z", "run-a")
    state.mark_exported([Exported("2024110100011", None, None, None, "2024-11-01T03:00:00Z", "f.jsonl")])
    assert state.failures() == []


@pytest.mark.parametrize(
    ("history", "given_up"),
    [
        ([("http_404", "2024-11-01T00:00:00Z")], False),  # once: may be a moment's 404
        ([("http_404", "2024-11-01T00:00:00Z"), ("http_404", "2024-11-01T12:00:00Z")], False),  # not a day apart
        ([("http_404", "2024-11-01T00:00:00Z"), ("http_404", "2024-11-02T00:00:00Z")], True),
        (
            [
                ("http_410", "2024-11-01T00:00:00Z"),
                ("http_500", "2024-11-01T06:00:00Z"),
                ("http_410", "2024-11-02T01:00:00Z"),
            ],
            True,
        ),
        ([("http_500", f"2024-11-0{day}T00:00:00Z") for day in (1, 2)], False),  # two attempts of three
        ([("http_500", f"2024-11-01T0{hour}:00:00Z") for hour in (1, 2, 3, 4)], False),  # many, but within a day
        ([("http_500", f"2024-11-0{day}T00:00:00Z") for day in (1, 2, 3)], True),  # three over two days
    ],
)
def test_the_give_up_rule(state: StateStore, history: list[tuple[str, str]], given_up: bool) -> None:
    for run, (reason, when) in enumerate(history):
        state.record_failures([("2024110100011", "u", reason)], when, f"run-{run}")
    gave_up = state.give_up(RULE, "2024-12-01T00:00:00Z")
    assert bool(gave_up) is given_up
    assert bool(state.failures()) is not given_up, "a given-up article is no longer fetched again"
    if given_up:
        assert gave_up[0].gave_up_why and gave_up[0].article_id == "2024110100011"


def test_forget_missing_drops_only_what_the_file_lacks(state: StateStore) -> None:
    state.mark_exported(
        [Exported(aid, None, None, None, "2024-11-01T00:00:00Z", name) for aid, name in
         [("2024110100011", "a.jsonl"), ("2024110100022", "a.jsonl"), ("2024110100033", "b.jsonl")]]
    )  # fmt: skip
    held = {"a.jsonl": {"2024110100011"}, "b.jsonl": None}  # b cannot be checked: kept
    assert state.forget_missing(held.get) == {"a.jsonl": 1}
    assert state.known("2024110100022") is None
    assert state.known("2024110100011") and state.known("2024110100033")


def test_rows_no_run_wrote_are_fetched_again_and_never_stop_a_run(state: StateStore) -> None:
    """A hand-edited or foreign state: a failure whose times or attempts are unreadable stays a
    failure (its article is fetched again by id) and the give-up rule passes over it; a run row
    with an unreadable end time is not "the last run with new articles"."""
    insert = "INSERT INTO failures VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    state.db.execute(insert, ("2024110100011", None, "http_500", "garbage", "2024", "x", None, None, None, None, None))
    state.db.execute(insert, ("2024110100022", 5, "http_404", "2024-11-01T00:00:00Z", "2024-11-01T00:00:00Z", 9,
                              "no time", None, None, None, None))  # fmt: skip
    state.db.execute(insert, ("2024110100033", "u", "http_500", "2024-11-01T00:00:00Z", "2024-11-02T00:00:00Z", 1,
                              None, None, None, None, "run-a"))  # fmt: skip
    failures = {f.article_id: f for f in state.failures()}
    assert [(f.reason, f.url, f.attempts) for f in failures.values()] == [
        ("unreadable", None, 0), ("unreadable", None, 0), ("http_500", "u", 1),
    ]  # fmt: skip
    assert state.give_up(RULE, "2024-12-01T00:00:00Z") == []
    state.db.execute("INSERT INTO runs VALUES ('a', '2024-11-01T00:00:00Z', '2024-11-01T01:00:00Z', 'ok', 3, NULL)")
    state.db.execute("INSERT INTO runs VALUES ('b', 'garbage', 'zzz garbage', 'ok', 5, NULL)")
    assert state.last_run_with_new_articles() == "2024-11-01T01:00:00Z"


def test_an_implausible_publication_time_never_stands_for_the_newest_known(state: StateStore) -> None:
    """Discovery reads "newest known" as "everything older was seen": a hand-edited value
    sorting above every real time ("garbage", year 2999) must not be it."""
    records = [Exported(aid, published, None, None, "2024-11-01T03:00:00Z", "f.jsonl") for aid, published in (
        ("2024110100011", "2024-11-01T09:00:00+09:00"), ("2024110100022", "garbage"),
        ("2024110100033", "2999-01-01T00:00:00+09:00"),
    )]  # fmt: skip
    state.mark_exported(records)
    assert state.newest_published() == "2024-11-01T09:00:00+09:00"
