"""The fault mode, seen from the client's side of a real socket."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from hkcrawl.replica import FaultPlan, ReplicaServer, SiteModel
from tests.conftest import ROOT
from tests.replica.conftest import fetch

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _raw(replica: ReplicaServer, path: str) -> tuple[bytes, BaseException | None]:
    """Send one request on a bare socket; everything received, and the error that ended it (None: a clean EOF)."""
    with socket.create_connection(("127.0.0.1", replica.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: replica\r\n\r\n".encode())
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as error:
            return received, error
        return received, None


def _articles(replica: ReplicaServer, count: int) -> list[str]:
    return [f"/article/{aid}" for aid in replica.model.ids()[:count]]


def test_spec_grammar_reads_back_and_rejects_mistakes() -> None:
    spec = "500:articles:rate=0.1,503:lists:count=3,404:articles:share=0.05:count=2,429:/article/:after=5"
    assert str(FaultPlan.parse(spec)) == spec
    plan = FaultPlan.parse("challenge:all:count=4:scope=site,redirect:articles:to=file,extra-locs:sitemaps:locs=ftp")
    assert [(r.fault, r.target, r.mode, r.scope, r.value) for r in plan.rules] == [
        ("challenge", "all", "count", "site", ""),
        ("redirect", "articles", "always", "path", "file"),
        ("extra-locs", "sitemaps", "always", "path", "ftp"),
    ]
    assert FaultPlan.parse("none").rules == () and str(FaultPlan.parse(None)) == "none"
    for bad in (
        "418:articles",  # no such fault
        "500:everything",  # no such target
        "500:articles:rate=2",
        "500:articles:count=x",
        "500:articles:always:count=2",  # two "when"s
        "500:articles:after=3",  # after= belongs to 429
        "redirect:articles:to=mars",
        "extra-locs:sitemaps:locs=gopher",
        "huge:articles:mb=0",
    ):
        with pytest.raises(ValueError, match="bad fault rule"):
            FaultPlan.parse(bad)


def test_off_by_default_and_switchable_while_running(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    assert fresh_replica.faults is None and fetch(fresh_replica.url(path)).status == 200
    fresh_replica.set_faults("502:articles")
    assert fetch(fresh_replica.url(path)).status == 502 and fetch(fresh_replica.url("/all-news")).status == 200
    assert str(fresh_replica.set_faults("none")) == "none" and fresh_replica.faults is None
    assert fetch(fresh_replica.url(path)).status == 200
    answers = [(r.status, r.fault) for r in fresh_replica.log.records]
    assert answers == [(200, None), (502, "502"), (200, None), (200, None)]


def test_rates_are_reproducible_whatever_the_request_order(fresh_replica: ReplicaServer) -> None:
    paths = _articles(fresh_replica, 60)

    def statuses(order: list[str]) -> dict[str, int]:
        fresh_replica.set_faults("500:articles:rate=0.3")
        return {path: fetch(fresh_replica.url(path)).status for path in order}

    first = statuses(paths)
    assert first == statuses(paths[::-1])
    assert 6 <= list(first.values()).count(500) <= 30 and set(first.values()) == {200, 500}
    with ReplicaServer(SiteModel(articles=120, seed=3), faults="500:articles:rate=0.3") as twin:
        assert {path: fetch(twin.url(path)).status for path in paths} == first
    with ReplicaServer(SiteModel(articles=120, seed=4), faults="500:articles:rate=0.3") as other_seed:
        other = [fetch(other_seed.url(f"/article/{aid}")).status for aid in other_seed.model.ids()[:60]]
        assert other != [first[path] for path in paths]


def test_bursts_fail_the_first_requests_to_a_path_then_recover(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_faults("503:lists:count=3,500:/robots.txt:always")
    assert [fetch(fresh_replica.url("/all-news")).status for _ in range(5)] == [503, 503, 503, 200, 200]
    assert fetch(fresh_replica.url("/economy")).status == 503  # counted per path
    assert fetch(fresh_replica.url(_articles(fresh_replica, 1)[0])).status == 200  # not a list
    assert {fetch(fresh_replica.url("/robots.txt")).status for _ in range(4)} == {500}
    assert fresh_replica.log.count(status=503, kind="all-news") == 3
    assert {r.fault for r in fresh_replica.log.matching("/robots.txt")} == {"500"}


def test_challenge_burst_across_the_site_then_recovery(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_faults("challenge:all:count=3:scope=site")
    paths = ["/", "/all-news", "/robots.txt", "/economy", "/", "/all-news"]
    answers = [fetch(fresh_replica.url(path)) for path in paths]
    assert [a.status for a in answers] == [403, 403, 403, 200, 200, 200]
    assert all(a.headers.get("cf-mitigated") == "challenge" and "Just a moment..." in a.text for a in answers[:3])
    assert fresh_replica.log.count(kind="challenge") == 3


def test_429_knows_whether_the_client_waited(fresh_replica: ReplicaServer) -> None:
    clock = [1000.0]
    fresh_replica.set_faults("429:articles:count=2:after=30")
    assert fresh_replica.faults is not None
    fresh_replica.faults.clock = lambda: clock[0]
    path = _articles(fresh_replica, 1)[0]
    first = fetch(fresh_replica.url(path))
    assert first.status == 429 and first.headers["retry-after"] == "30"
    clock[0] += 10.5
    early = fetch(fresh_replica.url(path))
    assert early.status == 429 and early.headers["retry-after"] == "20"
    clock[0] += 20
    assert fetch(fresh_replica.url(path)).status == 200  # waited: served, though the burst has one 429 left
    assert fetch(fresh_replica.url(path)).status == 429  # the second of count=2
    clock[0] += 30
    assert [fetch(fresh_replica.url(path)).status for _ in range(2)] == [200, 200]
    assert [(r.status, r.fault, r.early) for r in fresh_replica.log.records] == [
        (429, "429", None),
        (429, "429-early", True),
        (200, None, False),
        (429, "429", None),
        (200, None, False),
        (200, None, None),
    ]


def test_reset_before_any_response(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_faults("reset:articles")
    received, error = _raw(fresh_replica, _articles(fresh_replica, 1)[0])
    assert received == b"" and isinstance(error, ConnectionResetError)
    assert [(r.status, r.fault) for r in fresh_replica.log.records] == [(0, "reset")]
    assert fetch(fresh_replica.url("/robots.txt")).status == 200  # the server lives on


def test_reset_in_the_middle_of_the_body(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_faults("reset-body:articles")
    received, error = _raw(fresh_replica, _articles(fresh_replica, 1)[0])
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    assert head.startswith(b"HTTP/1.1 200") and isinstance(error, ConnectionResetError)
    assert 0 < len(body) < length


def test_truncated_with_content_length_is_a_short_read(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    whole = fetch(fresh_replica.url(path)).body
    fresh_replica.set_faults("truncate:articles")
    connection = http.client.HTTPConnection("127.0.0.1", fresh_replica.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200 and int(response.headers["Content-Length"]) == len(whole)
    with pytest.raises(http.client.IncompleteRead) as short:
        response.read()
    connection.close()
    assert short.value.partial == whole[: len(whole) // 2]


def test_truncated_without_content_length_looks_complete(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    whole = fetch(fresh_replica.url(path)).body
    fresh_replica.set_faults("truncate-nolength:articles")
    answer = fetch(fresh_replica.url(path))  # no exception: http.client reads to the clean close
    assert answer.status == 200 and "content-length" not in answer.headers and answer.headers["connection"] == "close"
    assert answer.body == whole[: len(whole) // 2]
    received, error = _raw(fresh_replica, path)
    assert error is None and received.endswith(whole[len(whole) // 4 : len(whole) // 2])  # EOF, not a reset


def test_stall_holds_the_body_until_stop_releases_it() -> None:
    replica = ReplicaServer(SiteModel(articles=40, seed=3), faults="stall:articles:secs=120").start()
    try:
        with socket.create_connection(("127.0.0.1", replica.port), timeout=30) as sock:
            sock.sendall(f"GET {_articles(replica, 1)[0]} HTTP/1.1\r\nHost: replica\r\n\r\n".encode())
            received = b""
            while b"\r\n\r\n" not in received:  # the headers come: the server is now stalling
                received += sock.recv(65536)
            assert received.startswith(b"HTTP/1.1 200") and received.endswith(b"\r\n\r\n")
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(1)  # not one byte of the body
            sock.settimeout(30)
            started = time.monotonic()
            replica.stop()
            assert sock.recv(65536) == b""  # a clean close, no body
            assert time.monotonic() - started < 5  # released by stop(), not by the 120 s
    finally:
        replica.stop()
    assert [r.fault for r in replica.log.records] == ["stall"]


def test_a_short_stall_then_the_body(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    whole = fetch(fresh_replica.url(path)).body
    fresh_replica.set_faults("stall:articles:secs=0.2")
    assert fetch(fresh_replica.url(path)).body == whole


def test_content_type_missing_or_wrong(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    fresh_replica.set_faults("content-type:articles")
    missing = fetch(fresh_replica.url(path))
    assert missing.status == 200 and "content-type" not in missing.headers and b"<html" in missing.body
    fresh_replica.set_faults("content-type:sitemaps:to=application/octet-stream")
    assert fetch(fresh_replica.url("/sitemap/latest-article.xml")).headers["content-type"] == "application/octet-stream"
    assert fetch(fresh_replica.url(path)).headers["content-type"] == "text/html; charset=UTF-8"


def test_mislabelled_encodings(fresh_replica: ReplicaServer) -> None:
    aid = fresh_replica.model.ids()[0]
    path, headline = f"/article/{aid}", fresh_replica.model.article(aid).headline
    whole = fetch(fresh_replica.url(path)).body
    fresh_replica.set_faults("mislabel-utf8:articles")
    lying = fetch(fresh_replica.url(path))
    assert lying.headers["content-type"] == "text/html; charset=UTF-8"
    with pytest.raises(UnicodeDecodeError):
        lying.body.decode("utf-8")
    assert headline in lying.body.decode("cp949")
    fresh_replica.set_faults("mislabel-euckr:articles")
    other = fetch(fresh_replica.url(path))
    assert other.headers["content-type"] == "text/html; charset=EUC-KR" and other.body == whole


def test_huge_page(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    whole = fetch(fresh_replica.url(path)).body
    fresh_replica.set_faults("huge:articles")
    huge = fetch(fresh_replica.url(path))
    assert len(huge.body) > 10 * 2**20 and int(huge.headers["content-length"]) == len(huge.body)
    end = whole.rindex(b"</body>")
    assert huge.body.startswith(whole[:end]) and huge.body.endswith(whole[end:])


def test_redirect_loops(fresh_replica: ReplicaServer) -> None:
    a = _articles(fresh_replica, 1)[0]
    fresh_replica.set_faults("redirect:articles:to=loop")
    b = fetch(fresh_replica.url(a))
    assert b.status == 302 and b.headers["location"] == fresh_replica.url(a + "?_hop=1")
    back = fetch(b.headers["location"])
    assert back.status == 302 and back.headers["location"] == fresh_replica.url(a)
    fresh_replica.set_faults("redirect:/economy:to=self")
    same = fetch(fresh_replica.url("/economy?page=2"))
    assert same.status == 302 and same.headers["location"] == fresh_replica.url("/economy?page=2")


def test_redirects_off_the_site_and_to_a_file(fresh_replica: ReplicaServer) -> None:
    path = _articles(fresh_replica, 1)[0]
    fresh_replica.set_faults("redirect:articles:to=offsite")
    assert fetch(fresh_replica.url(path)).headers["location"] == "http://evil.example" + path
    fresh_replica.set_faults("redirect:articles:to=file")
    answer = fetch(fresh_replica.url(path))
    assert answer.status == 302 and answer.headers["location"] == "file:///etc/passwd"
    assert fresh_replica.log.count(kind="article", status=302) == 2


def test_off_site_faults_point_where_the_test_says() -> None:
    with ReplicaServer(SiteModel(articles=40), offsite="http://127.0.0.2:9/") as replica:
        path = _articles(replica, 1)[0]
        replica.set_faults("redirect:articles:to=offsite,extra-locs:sitemaps:locs=offsite+ftp")
        assert fetch(replica.url(path)).headers["location"] == "http://127.0.0.2:9" + path
        urlset = ET.fromstring(fetch(replica.url("/sitemap/latest-article.xml")).body)
        assert [loc.text for loc in urlset.iter(f"{SITEMAP}loc")][-2:] == [
            "http://127.0.0.2:9/sitemap/daily-article/20261120.xml",
            "ftp://ftp.evil.example/sitemap/daily-article.xml",
        ]


def test_articles_gone_between_list_and_fetch(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_faults("404:articles:share=0.2")
    listed = fetch(fresh_replica.url("/sitemap/latest-article.xml")).text
    ids = fresh_replica.model.ids()
    gone = {aid for aid in ids if fetch(fresh_replica.url(f"/article/{aid}")).status == 404}
    assert 0.1 * len(ids) <= len(gone) <= 0.3 * len(ids)
    assert all(f"/article/{aid}</loc>" in listed for aid in gone)  # still listed
    assert gone == {aid for aid in ids if fetch(fresh_replica.url(f"/article/{aid}")).status == 404}  # for good
    availability = fresh_replica.article_availability()
    assert set(availability.unservable) == gone and set(availability.servable) == set(ids) - gone


def test_articles_that_come_back(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_faults("404:articles:share=0.2:count=2")
    ids = fresh_replica.model.ids()
    tries = {aid: [fetch(fresh_replica.url(f"/article/{aid}")).status for _ in range(3)] for aid in ids}
    assert {tuple(statuses) for statuses in tries.values()} == {(404, 404, 200), (200, 200, 200)}
    assert fresh_replica.article_availability().unservable == ()


def test_servable_articles_follow_the_rules_in_order(fresh_replica: ReplicaServer) -> None:
    ids = tuple(fresh_replica.model.ids())
    assert fresh_replica.article_availability().servable == ids
    for spec, unservable in [
        ("500:articles:rate=0.5", 0),  # a retry gets through
        ("500:articles:rate=1", len(ids)),  # but not this one
        ("stall:articles,429:articles", 0),  # slow or rate-limited, still served
        ("truncate-nolength:articles", len(ids)),
        ("huge:articles:count=1,reset:/article/", len(ids)),
        ("content-type:articles,reset:articles", 0),  # the first rule always answers, with the page
        ("404:lists", 0),
    ]:
        fresh_replica.set_faults(spec)
        availability = fresh_replica.article_availability()
        assert len(availability.unservable) == unservable, spec
        assert sorted(availability.servable + availability.unservable) == sorted(ids)


def test_a_loop_whose_hop_is_not_redirected_serves_the_page(fresh_replica: ReplicaServer) -> None:
    # With share < 1 the hop (A?_hop=1) is picked by its own hash: unpicked, it has the page.
    fresh_replica.set_faults("redirect:articles:share=0.5:to=loop")
    ids = fresh_replica.model.ids()[:60]

    def reachable(aid: str) -> bool:
        url = fresh_replica.url(f"/article/{aid}")
        for _ in range(4):
            answer = fetch(url)
            if answer.status != 302:
                return answer.status == 200
            url = answer.headers["location"]
        return False

    served = {aid for aid in ids if reachable(aid)}
    assert 0 < len(served) < len(ids)
    assert served == set(fresh_replica.article_availability().servable) & set(ids)


def test_sitemap_index_points_off_site(fresh_replica: ReplicaServer) -> None:
    clean = ET.fromstring(fetch(fresh_replica.url("/sitemap/daily-article.xml")).body)
    fresh_replica.set_faults("extra-locs:/sitemap/daily-article.xml")
    index = ET.fromstring(fetch(fresh_replica.url("/sitemap/daily-article.xml")).body)
    locs = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert locs == [loc.text for loc in clean.iter(f"{SITEMAP}loc")] + [
        "http://evil.example/sitemap/daily-article/20261120.xml",
        "file:///etc/passwd",
        "ftp://ftp.evil.example/sitemap/daily-article.xml",
        "file:///dev/zero",
    ]
    assert b"evil" not in fetch(fresh_replica.url("/sitemap/latest-article.xml")).body
    fresh_replica.set_faults("extra-locs:sitemaps:locs=zero")
    urlset = ET.fromstring(fetch(fresh_replica.url("/sitemap/latest-article.xml")).body)
    assert [loc.text for loc in urlset.iter(f"{SITEMAP}loc")][-1] == "file:///dev/zero"


def test_command_line_takes_a_fault_spec() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "hkcrawl.replica", "--port", "0", "--articles", "30"]
    process = subprocess.Popen(
        [*command, "--faults", "503:/robots.txt:count=1"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = process.stdout.readline().strip()
        assert [fetch(base + "/robots.txt").status for _ in range(2)] == [503, 200]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "faults 503:/robots.txt:count=1" in err
    bad = subprocess.run([*command, "--faults", "500:nowhere"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "bad fault rule" in bad.stderr
