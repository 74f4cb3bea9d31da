"""Kept only for ``scrapyd-deploy``, which runs ``setup.py bdist_egg`` and would otherwise
write its own setup.py here (named "project", packaging tests/ and benchmarks/ too).
Everything is configured in pyproject.toml."""

from setuptools import setup

setup()
