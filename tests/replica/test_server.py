"""The HTTP side: challenges, the request log, headers, the command line."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time

import pytest

from hkcrawl.replica import ChallengePolicy, ReplicaServer, SiteModel
from tests.conftest import ROOT
from tests.replica.conftest import fetch


def _is_challenge(response) -> bool:
    return (
        response.status in (403, 503)
        and response.headers.get("cf-mitigated") == "challenge"
        and "<title>Just a moment...</title>" in response.text
        and "window._cf_chl_opt" in response.text
        and "cType: 'interactive'" in response.text
    )


def test_every_response_looks_like_cloudflare(fresh_replica: ReplicaServer) -> None:
    response = fetch(fresh_replica.url("/robots.txt"))
    assert response.status == 200 and response.headers["server"] == "cloudflare"
    assert response.headers["cf-ray"].endswith("-ICN") and "cf-mitigated" not in response.headers


def test_challenge_all_then_none_at_run_time(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_challenge("all")
    response = fetch(fresh_replica.url("/robots.txt"))
    assert _is_challenge(response) and response.status == 403 and response.headers["server"] == "cloudflare"
    fresh_replica.set_challenge("all", status=503)
    assert fetch(fresh_replica.url("/all-news")).status == 503
    fresh_replica.set_challenge("none")
    assert fetch(fresh_replica.url("/all-news")).status == 200


def test_challenge_after_n_requests(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_challenge("after:3")  # the live site challenged a 4th rapid request (§6)
    statuses = [fetch(fresh_replica.url("/ranking")).status for _ in range(6)]
    assert statuses == [200, 200, 200, 403, 403, 403]


def test_challenge_by_path_prefix(fresh_replica: ReplicaServer) -> None:
    fresh_replica.set_challenge("path:/feed")  # the feeds were 100 % challenged in August 2026
    assert _is_challenge(fetch(fresh_replica.url("/feed/all-news")))
    assert _is_challenge(fetch(fresh_replica.url("/feed")))
    assert fetch(fresh_replica.url("/sitemap/latest-article.xml")).status == 200


def test_challenge_at_a_rate_is_reproducible(fresh_replica: ReplicaServer) -> None:
    def run() -> list[int]:
        fresh_replica.set_challenge("rate:0.3")
        return [fetch(fresh_replica.url("/robots.txt")).status for _ in range(40)]

    first = run()
    assert first == run()
    assert 4 <= first.count(403) <= 20


def test_challenge_policy_parsing() -> None:
    policy = ChallengePolicy.parse("path:/feed,after:10")
    assert str(policy) == "path:/feed,after:10" and policy.status == 403
    assert ChallengePolicy.parse("none").rules == ()
    for bad in ("sometimes", "after:x", "rate:2", "path:feed"):
        with pytest.raises(ValueError):
            ChallengePolicy.parse(bad)


def test_challenge_set_at_start() -> None:
    with ReplicaServer(SiteModel(articles=20), challenge="all", challenge_status=503) as replica:
        assert _is_challenge(fetch(replica.url("/")))
        assert replica.log.count(kind="challenge", status=503) == 1


def test_request_log_counts_by_path_kind_and_status(fresh_replica: ReplicaServer) -> None:
    model = fresh_replica.model
    for aid in model.all_ids[:5]:
        fetch(fresh_replica.url(f"/article/{aid}"))
    fetch(fresh_replica.url(f"/news/app/newsview.php?aid={model.all_ids[0]}"))
    fetch(fresh_replica.url("/economy?page=2"))
    fetch(fresh_replica.url("/article/2026112099999"))
    log = fresh_replica.log
    assert log.count("/article/") == 6
    assert log.count("/article/", status=200) == 5 and log.count(status=404) == 1
    assert log.count(kind="redirect") == 1 and log.count(kind="section") == 1
    assert log.by_kind()["article"] == 5
    record = log.records[-2]
    assert record.path == "/economy?page=2" and record.method == "GET" and record.time <= time.time()
    log.clear()
    assert log.count() == 0


def test_head_and_keep_alive(fresh_replica: ReplicaServer) -> None:
    aid = fresh_replica.model.all_ids[0]
    head = fetch(fresh_replica.url(f"/article/{aid}"), method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) > 30_000
    connection = http.client.HTTPConnection("127.0.0.1", fresh_replica.port, timeout=10)
    for path in ("/robots.txt", f"/article/{aid}", "/all-news"):  # one connection, three answers
        connection.request("GET", path)
        assert connection.getresponse().read()
    connection.close()


def test_same_seed_same_bytes_over_http() -> None:
    """With the same base URL written into pages, two servers serve identical bytes."""
    paths = ["/", "/economy?page=2", "/sitemap/latest-article.xml", "/feed/it", "/robots.txt"]
    bodies = []
    for _ in range(2):
        model = SiteModel(articles=80, seed=9)
        paths_here = [*paths, f"/article/{model.all_ids[7]}"]
        with ReplicaServer(model, base_url="http://replica.test") as replica:
            bodies.append([fetch(f"http://127.0.0.1:{replica.port}{path}").body for path in paths_here])
    assert bodies[0] == bodies[1]
    assert b"http://replica.test/article/" in bodies[0][0]


def test_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hkcrawl.replica", "--port", "0", "--articles", "50", "--seed", "4",
         "--challenge", "path:/feed"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        assert fetch(base + "/robots.txt").status == 200
        assert fetch(base + "/feed/all-news").status == 403
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "50 articles" in err and "answered 2 requests" in err


def test_command_line_rejects_a_bad_challenge() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hkcrawl.replica", "--challenge", "sometimes"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2 and "bad challenge rule" in result.stderr
