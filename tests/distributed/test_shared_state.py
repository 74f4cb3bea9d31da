"""The shared run state against a real redis-server: two workers' ledgers, one union in Redis."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hkcrawl.redis_url import shown_url
from hkcrawl.shared_ledger import SharedStateStore
from hkcrawl.shared_state import SharedState, pack_time, unpack_time
from hkcrawl.state import Exported, GiveUpRule, Known, StateUnavailable
from tests.distributed.conftest import RedisServer

RULE = GiveUpRule(gone_hours=24, attempts=3, days=2)
A1, A2, A3 = "2024110100011", "2024110100022", "2024110100033"


def _record(article_id: str, published: str, modified: str | None = None, output: str = "a.jsonl") -> Exported:
    return Exported(article_id, published, modified, "hash", "2024-11-01T00:00:00Z", output)


@pytest.fixture
def open_store(redis_server: RedisServer, tmp_path: Path) -> Iterator:
    stores: list[SharedStateStore] = []

    def open_store(name: str) -> SharedStateStore:
        home = tmp_path / name
        (home / "state").mkdir(parents=True, exist_ok=True)
        shared = SharedState.from_url(redis_server.url, "hankyung")
        store = SharedStateStore(home / "state" / "hankyung.sqlite3", home / "data", shared, host="box")
        store.share()
        stores.append(store)
        return store

    yield open_store
    for store in stores:
        with contextlib.suppress(Exception):  # already closed by the test
            store.close()


def test_times_are_packed_and_come_back_the_same() -> None:
    for value in ("2024-11-01T09:30:00+09:00", "2024-11-01T09:30:00.5+09:00", "2024-11-01T00:30:00+00:00", None):
        packed = pack_time(value)
        assert unpack_time(packed) == value
    assert len(pack_time("2024-11-01T09:30:00+09:00")) == 6
    assert shown_url("redis://user:secret@host:6379/0") == "redis://user@host:6379/0"
    assert shown_url("redis://:secret@host/0") == "redis://host/0"
    assert shown_url("redis://:secret@host:port/0") == "redis://host/0"  # a bad port, and still no password
    assert shown_url("redis://host:6379/0") == "redis://host:6379/0"


def test_what_one_worker_exports_the_other_knows(open_store, redis_server: RedisServer) -> None:
    a, b = open_store("a"), open_store("b")
    a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00"), _record(A2, "2024-11-01T10:00:00+09:00")])
    assert b.known(A1) == Known("2024-11-01T09:00:00+09:00", None)
    assert b.newest_published() == "2024-11-01T10:00:00+09:00"
    assert b.known(A3) is None
    assert a.shared.holder_of(A1) == f"box:{a.output_dir.absolute() / 'a.jsonl'}"
    # An edit exported by B: the shared entry is B's, with the new 수정 time.
    b.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00", "2024-11-02T08:00:00+09:00", "b.jsonl")])
    assert a.known(A1) == Known("2024-11-01T09:00:00+09:00", "2024-11-02T08:00:00+09:00")
    assert a.shared.holder_of(A1) == f"box:{b.output_dir.absolute() / 'b.jsonl'}"
    value = redis_server.client().hget("hankyung:known", A1)
    assert len(value) <= 16, value  # "published|modified|holder": compact


def test_a_forgotten_article_goes_only_from_its_holder(open_store) -> None:
    a, b = open_store("a"), open_store("b")
    a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00"), _record(A2, "2024-11-01T10:00:00+09:00")])
    b.mark_exported([_record(A2, "2024-11-01T10:00:00+09:00", "2024-11-02T10:00:00+09:00", "b.jsonl")])
    # A's file lost both: its reconcile forgets them; B's newer copy of A2 stays shared.
    assert a.forget_missing({"a.jsonl": set()}.get) == {"a.jsonl": 2}
    assert b.known(A1) is None
    assert b.known(A2) is not None


def test_failures_are_shared_cleared_by_any_save_and_given_up_once(open_store) -> None:
    a, b = open_store("a"), open_store("b")
    a.record_failures([(A1, "u1", "http_500")], "2024-11-01T00:00:00Z", "run-1")
    a.mark_pending([(A2, "u2")], "2024-11-01T00:00:00Z")
    assert [(f.article_id, f.reason, f.attempts) for f in b.failures()] == [
        (A1, "http_500", 1),
        (A2, "interrupted", 0),
    ]
    # Same run id on two workers is two runs: two attempts.
    b.record_failures([(A1, "u1", "http_500")], "2024-11-02T00:00:00Z", "run-1")
    b.record_failures([(A1, "u1", "http_500")], "2024-11-02T00:00:00Z", "run-1")
    b.record_failures([(A1, "u1", "http_500")], "2024-11-03T00:00:00Z", "run-2")
    assert [(f.article_id, f.attempts) for f in a.failures()] == [(A1, 3), (A2, 0)]
    given_up = a.give_up(RULE, "2024-11-04T00:00:00Z")
    assert [f.article_id for f in given_up] == [A1]
    assert b.give_up(RULE, "2024-11-04T00:00:01Z") == []
    assert [f.article_id for f in b.failures()] == [A2]
    assert [f.article_id for f in b.failures(include_given_up=True)] == [A1, A2]
    b.mark_exported([_record(A2, "2024-11-01T10:00:00+09:00", output="b.jsonl")])
    assert a.failures() == []
    # Fetched fine but nothing to save (not a valid record): cleared for all too.
    a.record_failures([(A3, "u3", "timeout")], "2024-11-05T00:00:00Z", "run-3")
    b.clear_failures([A3])
    assert [f.article_id for f in a.failures(include_given_up=True)] == [A1]  # A1: given up, kept


def test_a_failure_another_worker_saved_leaves_this_ledger(open_store) -> None:
    a = open_store("a")
    a.record_failures([(A1, "u1", "http_500")], "2024-11-01T00:00:00Z", "run-1")
    a.close()
    b = open_store("b")
    b.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00", output="b.jsonl")])
    a = open_store("a")
    assert a.failures() == []
    assert super(SharedStateStore, a).failures() == [], "A's own ledger forgot it at start"


def test_a_ledger_is_published_again_after_redis_lost_its_data(open_store, redis_server: RedisServer) -> None:
    a = open_store("a")
    a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00"), _record(A2, "2024-11-01T10:00:00+09:00")])
    a.record_failures([(A3, "u3", "http_404")], "2024-11-01T00:00:00Z", "run-1")
    a.close()
    redis_server.client().flushall()
    b = open_store("b")
    assert b.known(A1) is None  # nobody has told Redis yet
    a = open_store("a")
    assert b.known(A1) == Known("2024-11-01T09:00:00+09:00", None)
    assert b.newest_published() == "2024-11-01T10:00:00+09:00"
    assert [(f.article_id, f.reason, f.attempts, f.first_gone) for f in b.failures()] == [
        (A3, "http_404", 1, "2024-11-01T00:00:00Z")
    ]


def test_a_clean_close_spares_the_next_start_a_republish(open_store, redis_server: RedisServer) -> None:
    a = open_store("a")
    a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00")])
    a.close()
    client = redis_server.client()
    client.hdel("hankyung:known", A1)  # not a loss Redis can see: the ledger mark still vouches
    open_store("a")
    assert client.hget("hankyung:known", A1) is None
    # A worker that died (no clean close) publishes again.
    a2 = open_store("a")
    a2.mark_pending([(A2, "u2")], "2024-11-01T00:00:00Z")
    a2.mark_exported([_record(A2, "2024-11-01T10:00:00+09:00")])
    client.hdel("hankyung:known", A2)  # as if this mark had failed to reach Redis …
    client.hset("hankyung:failures", A2, '{"r":"interrupted","f":"x","l":"x","n":0}')  # … with its HDEL
    a2.db.close()  # killed: no close()
    open_store("a")
    assert client.hget("hankyung:known", A2) is not None
    assert not client.hexists("hankyung:failures", A2), "saved: not to be fetched again"


def test_redis_errors_are_one_line_naming_redis_and_stop_further_calls(open_store, redis_server: RedisServer) -> None:
    a = open_store("a")
    redis_server.stop()
    a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00")])
    a.record_failures([(A2, "u2", "http_500")], "2024-11-01T00:00:00Z", "run-1")
    message = a.problem() or ""
    assert message.startswith(f"Redis at {redis_server.url} is unreachable (shared run state: ConnectionError"), message
    assert "\n" not in message and message.endswith("start the workers again once it is back"), message
    # The worker's own ledger keeps everything, for the rerun to publish.
    assert [row[0] for row in a.db.execute("SELECT article_id FROM articles")] == [A1]
    assert [row[0] for row in a.db.execute("SELECT article_id FROM failures")] == [A2]
    redis_server.start()
    with pytest.raises(StateUnavailable, match="Redis at "):  # no retry loop: the run fails on the first error
        a.known(A1)


def test_out_of_memory_is_a_redis_error_too(open_store, redis_server: RedisServer) -> None:
    a = open_store("a")
    client = redis_server.client()
    client.config_set("maxmemory", "1")
    try:
        a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00")])
        assert "maxmemory" in (a.problem() or "")
    finally:
        client.config_set("maxmemory", "0")


def test_a_list_page_is_looked_up_in_one_round_trip(open_store, redis_server: RedisServer) -> None:
    a, b = open_store("a"), open_store("b")
    a.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00")])
    b.prefetch([A1, A2, A1])
    redis_server.client().delete("hankyung:known")  # answers now come from the prefetch
    assert (b.known(A1), b.known(A2)) == (Known("2024-11-01T09:00:00+09:00", None), None)
    b.mark_exported([_record(A2, "2024-11-01T10:00:00+09:00", output="b.jsonl")])
    assert b.known(A2) is not None, "its own marks are not hidden by the prefetch"


def test_entries_no_worker_wrote_are_fetched_again_not_fatal(open_store, redis_server: RedisServer) -> None:
    """Hand-edited or foreign values in the shared keys: an unreadable known entry is no
    article known (fetched and exported again, which rewrites it); an unreadable failure
    stays a failure, retried by its id, and the Lua merges take it over."""
    store = open_store("a")
    client = redis_server.client()
    client.hset("hankyung:known", mapping={A1: "garbage", A2: b"\xff\xfe|x|y", A3: "zz|"})
    assert [store.known(aid) for aid in (A1, A2, A3)] == [None, None, None]
    assert store.shared.holder_of(A1) is None
    bad = {A1: "{not json", A2: "[]", A3: '{"r":"x","f":"garbage","l":"2024","n":"x"}'}
    client.hset("hankyung:failures", mapping=bad)
    failures = store.shared.failures()
    assert [(f.article_id, f.reason, f.url) for f in failures] == [(A1, "unreadable", None), (A2, "unreadable", None),
                                                                   (A3, "unreadable", None)]  # fmt: skip
    assert store.shared.give_up(RULE, "2024-11-10T00:00:00Z") == []
    store.shared.record_failures(
        [(A1, "https://www.hankyung.com/article/" + A1, "http_500")], "2024-11-02T00:00:00Z", "r1"
    )
    (again,) = [f for f in store.shared.failures() if f.article_id == A1]
    assert (again.reason, again.attempts, again.first_failed) == ("http_500", 1, "2024-11-02T00:00:00Z")


def test_a_newest_time_no_worker_wrote_is_passed_over_and_replaced(open_store, redis_server: RedisServer) -> None:
    store = open_store("a")
    client = redis_server.client()
    for bad in ("garbage", "2999-01-01T00:00:00+09:00"):
        client.set("hankyung:state:newest", bad)
        assert store.newest_published() is None  # discovery then walks the lists, as on a first run
        store.mark_exported([_record(A1, "2024-11-01T09:00:00+09:00")])
        assert store.newest_published() == "2024-11-01T09:00:00+09:00"
