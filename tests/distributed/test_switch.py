"""The switch alone: which settings HKCRAWL_REDIS_URL changes, and that -s still wins."""

from __future__ import annotations

import subprocess
import sys

from scrapy.settings import Settings

from hkcrawl import settings as project_settings
from hkcrawl.distributed import RedisFrontier


def _settings(**cmdline: object) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.update(cmdline, priority="cmdline")
    RedisFrontier().update_settings(settings)
    return settings


def test_without_the_url_nothing_changes() -> None:
    settings = _settings()
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy.dupefilters.RFPDupeFilter"
    assert not settings.getbool("SCHEDULER_PERSIST")


def test_the_url_turns_on_the_shared_scheduler_and_filter() -> None:
    settings = _settings(HKCRAWL_REDIS_URL="redis://127.0.0.1:6390/2")
    assert settings["SCHEDULER"] == "hkcrawl.redis_scheduler.SharedScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6390/2"
    assert settings.getbool("SCHEDULER_PERSIST")


def test_command_line_settings_override_the_switch() -> None:
    settings = _settings(HKCRAWL_REDIS_URL="redis://127.0.0.1:6390/2", SCHEDULER_PERSIST=False)
    assert not settings.getbool("SCHEDULER_PERSIST")


def test_the_add_on_does_not_import_scrapy_redis() -> None:
    """A fresh interpreter: loading the project's settings and the add-on leaves scrapy_redis out."""
    code = (
        "import sys, hkcrawl.settings, hkcrawl.distributed, hkcrawl.spiders.hankyung;"
        "print('scrapy_redis' in sys.modules, 'redis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
