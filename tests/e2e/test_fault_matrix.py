"""Every replica fault through real ``hkcrawl cron`` runs (and a real kill -9): nothing servable
is lost after the reruns, nothing goes off the site, nothing crashes, no run says ok wrongly.

The scenarios and the runner live in ``tests/e2e/fault_scenarios.py``, shared with
``benchmarks/faults.py``, which prints the same outcomes as the README's table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.fault_scenarios import SCENARIOS, Outcome, Scenario, run_scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.id)
def test_fault(scenario: Scenario, tmp_path: Path) -> None:
    outcome = run_scenario(scenario, tmp_path)
    first = outcome.runs[0]
    _assert_the_scenario_happened(outcome)

    assert not outcome.lost, f"servable articles in no finished file after the reruns: {sorted(outcome.lost)}"
    assert not outcome.state_ahead, f"state calls exported what no finished file holds: {outcome.state_ahead}"
    assert outcome.offsite_hits == [], "a request reached the other host"
    assert outcome.crashes == []
    assert outcome.silent == []
    assert outcome.wrong_text == [], "exported text differs from the page's (cut short, mis-decoded)"
    assert outcome.early_429 == 0, "a retry came before its Retry-After was up"
    assert first.status == outcome.expected_run1, (
        f"run 1 reported {first.status}: missed {sorted(outcome.missed_run1)}, "
        f"tried and not saved {sorted(first.tried - first.saved)}"
    )
    # After the reruns all is saved: ok, unless the last run still tried articles gone for good (404).
    last = outcome.runs[-1]
    assert last.status == ("failed" if last.tried - outcome.servable else "ok")


def _assert_the_scenario_happened(outcome: Outcome) -> None:
    """A fault that never fired, or a kill that came too late, would prove nothing."""
    scenario, first = outcome.scenario, outcome.runs[0]
    if scenario.kill_after is not None:
        assert first.exit == -9 and first.status is None
        assert outcome.known_run1 > 0, "the kill came before any checkpoint: the state was never tested"
    else:
        assert outcome.faulted > 0, f"{scenario.spec} never fired"
    if scenario.wait_429:
        assert outcome.waited_429 > 0
    if scenario.offsite:
        assert outcome.offsite_refused > 0, "nothing off-site was refused: did the fault reach the crawl?"
