"""hkcrawl deployed on a real scrapyd, as a scrapyd user runs it.

scrapyd (from the deploy extra) runs on a free loopback port with its own directories,
in a Python that has hkcrawl's dependencies but not hkcrawl itself: the crawl can only
come from the egg that ``scrapyd-deploy --build-egg`` built, so a file missing from the
egg or a path that only works from a checkout fails here.
"""

from __future__ import annotations

import configparser
import json
import os
import site
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from hkcrawl.datasets import line_problems, read_lines
from hkcrawl.replica import ReplicaServer, SiteModel
from tests.conftest import ROOT

POLL = 0.2  # seconds between two looks at scrapyd
START_DEADLINE = 60.0
CRAWL_DEADLINE = 120.0


def deploy_target() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / "scrapy.cfg")
    return config["deploy"]


#: The project name users deploy under (scrapy.cfg's [deploy] target).
PROJECT = deploy_target()["project"]


def egg_only_python(where: Path) -> Path:
    """A virtualenv that sees this environment's packages but not hkcrawl.

    Its .pth line adds our site-packages as a plain directory, so the .pth files
    there (the editable install's finder) are not run and ``import hkcrawl`` fails.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(where), "platbase": str(where)}))
    (purelib / "hkcrawl-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return where / "bin" / "python"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Scrapyd:
    url: str
    home: Path
    python: Path

    @property
    def own_log(self) -> str:
        return (self.home / "scrapyd.log").read_text(errors="replace")

    def job_log(self, project: str, spider: str, job: str) -> str:
        path = self.home / "logs" / project / spider / f"{job}.log"
        return path.read_text(errors="replace") if path.exists() else f"(no log at {path})"

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        return _answer(requests.get(self.url + endpoint, params=params, timeout=10))

    def post(self, endpoint: str, data: list[tuple[str, str]], **kwargs: Any) -> dict[str, Any]:
        return _answer(requests.post(self.url + endpoint, data=data, timeout=60, **kwargs))


def _answer(response: requests.Response) -> dict[str, Any]:
    response.raise_for_status()
    answer = response.json()
    assert answer.get("status") == "ok", answer
    return answer


@contextmanager
def running_scrapyd(base: Path, items_dir: Path | None = None) -> Iterator[Scrapyd]:
    """A scrapyd on loopback, configured by the scrapyd.conf in its working directory,
    with this checkout deployed as scrapy.cfg's [deploy] project."""
    home = base / "home"
    home.mkdir(parents=True)
    python = egg_only_python(base / "venv")
    found = subprocess.run([python, "-c", "import hkcrawl"], capture_output=True, cwd=home)
    assert found.returncode != 0, "hkcrawl is importable without the egg: the test would not see what the egg lacks"
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n"
        f"items_dir = {items_dir or ''}\njobs_dir =\nmax_proc = 1\n"
        f"poll_interval = {POLL}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_") and k != "PYTHONPATH"}
    process = subprocess.Popen(
        [python, "-m", "scrapyd", "--pidfile=", "--logfile", str(home / "scrapyd.log")],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Scrapyd(f"http://127.0.0.1:{port}/", home, python)
    try:
        deadline = time.monotonic() + START_DEADLINE
        while True:
            assert process.poll() is None, f"scrapyd exited ({process.returncode}):\n{_tail(server.own_log)}"
            try:
                server.get("daemonstatus.json")
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"scrapyd did not answer in {START_DEADLINE} s"
                time.sleep(POLL)
        with build_egg(base / "hkcrawl.egg").open("rb") as egg:
            added = server.post("addversion.json", [("project", PROJECT), ("version", "1")], files={"egg": egg})
        assert added["spiders"] >= 1  # scrapyd listed the spiders by loading the egg
        assert "hankyung" in server.get("listspiders.json", project=PROJECT)["spiders"]
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    """scrapyd as it comes (no items_dir): the run writes its own files."""
    with running_scrapyd(tmp_path_factory.mktemp("scrapyd")) as server:
        yield server


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def build_egg(target: Path) -> Path:
    """The egg as ``scrapyd-deploy`` builds it from this checkout."""
    deploy = Path(sys.executable).with_name("scrapyd-deploy")
    proc = subprocess.run([deploy, "--build-egg", str(target)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return target


def crawl(scrapyd: Scrapyd, settings: dict[str, str], arguments: dict[str, str]) -> str:
    """Schedule the spider as a scrapyd user does (``setting=NAME=VALUE``, spider arguments
    as plain fields) and wait until scrapyd lists the job as finished; its job id."""
    job = scrapyd.post(
        "schedule.json",
        [
            ("project", PROJECT),
            ("spider", "hankyung"),
            *(("setting", f"{name}={value}") for name, value in settings.items()),
            *arguments.items(),
        ],
    )["jobid"]
    deadline = time.monotonic() + CRAWL_DEADLINE
    while job not in {j["id"] for j in scrapyd.get("listjobs.json", project=PROJECT)["finished"]}:
        assert time.monotonic() < deadline, f"not finished in {CRAWL_DEADLINE} s:\n{_tail(scrapyd.own_log)}"
        time.sleep(POLL)
    return job


def the_report(data: Path, log: str) -> dict[str, Any]:
    reports = sorted(data.glob("*.report.json"))
    assert len(reports) == 1, f"reports {reports} in {data}:\n{_tail(log)}"
    return json.loads(reports[0].read_text())


LOCAL_SITE = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}


def test_a_scheduled_crawl_writes_its_records_report_and_state_where_settings_say(
    scrapyd: Scrapyd, tmp_path: Path
) -> None:
    data, state = tmp_path / "data", tmp_path / "state"
    with ReplicaServer(SiteModel(articles=60)) as replica:
        settings = {
            "HANKYUNG_BASE_URL": replica.base_url,
            **LOCAL_SITE,
            "HKCRAWL_OUTPUT_DIR": str(data),
            "HKCRAWL_STATE_DIR": str(state),
        }
        arguments = {"discover": "all-news", "max_pages": "2", "related_depth": "0", "render": "never"}
        job = crawl(scrapyd, settings, arguments)
        expected = set(replica.model.page(1) + replica.model.page(2))

    log = scrapyd.job_log(PROJECT, "hankyung", job)
    report = the_report(data, log)
    assert report["status"] == "ok", (report["failure"], _tail(log))
    lines = list(read_lines(data / report["output"]))
    assert [problem for line in lines for problem in line_problems(line)] == []
    assert {line.record["articleId"] for line in lines if line.record} == expected
    assert report["new"] == len(lines) == 40
    assert (state / "hankyung.sqlite3").is_file()
    assert f"Process finished: project='{PROJECT}' spider='hankyung' job='{job}'" in scrapyd.own_log


def test_a_failed_crawl_is_finished_for_scrapyd_and_failed_in_its_report(scrapyd: Scrapyd, tmp_path: Path) -> None:
    """scrapyd's API says "finished" whatever became of the crawl: the report tells."""
    data = tmp_path / "data"
    settings = {
        "HANKYUNG_BASE_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        **LOCAL_SITE,
        "HKCRAWL_OUTPUT_DIR": str(data),
        "HKCRAWL_STATE_DIR": str(tmp_path / "state"),
    }
    job = crawl(scrapyd, settings, {"discover": "all-news", "render": "never"})
    log = scrapyd.job_log(PROJECT, "hankyung", job)
    report = the_report(data, log)
    assert report["status"] == "failed"
    assert "reach" in report["failure"], report["failure"]
    # The exit status (1) is only in scrapyd's own log.
    assert f"Process died: exitstatus=1 project='{PROJECT}' spider='hankyung' job='{job}'" in scrapyd.own_log


def test_with_items_dir_records_go_to_scrapyds_feed_and_are_known_once_it_is_stored(tmp_path: Path) -> None:
    items, data, state = tmp_path / "items", tmp_path / "data", tmp_path / "state"
    with (
        running_scrapyd(tmp_path / "scrapyd", items_dir=items) as server,
        ReplicaServer(SiteModel(articles=30)) as replica,
    ):
        settings = {
            "HANKYUNG_BASE_URL": replica.base_url,
            **LOCAL_SITE,
            "HKCRAWL_OUTPUT_DIR": str(data),
            "HKCRAWL_STATE_DIR": str(state),
        }
        arguments = {"discover": "all-news", "max_pages": "1", "related_depth": "0", "render": "never"}
        job = crawl(server, settings, arguments)
        expected = set(replica.model.page(1))
        log = server.job_log(PROJECT, "hankyung", job)
    feed = items / PROJECT / "hankyung" / f"{job}.jl"
    assert feed.is_file(), _tail(log)
    lines = list(read_lines(feed))
    assert [problem for line in lines for problem in line_problems(line)] == []
    assert {line.record["articleId"] for line in lines if line.record} == expected
    assert not list(data.glob("*.json*")), "with a feed the run writes no file of its own"
    with sqlite3.connect(state / "hankyung.sqlite3") as db:
        known = dict(db.execute("SELECT article_id, output FROM articles"))
        runs = list(db.execute("SELECT status, new FROM runs"))
    assert known == dict.fromkeys(expected, str(feed))
    assert runs == [("ok", len(expected))]  # without a report, the state keeps the verdict
