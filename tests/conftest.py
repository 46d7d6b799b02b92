"""Test-suite wide: every JSON report a test reads is checked against the schema it names (report_schemas); the
long tests run first."""

from __future__ import annotations

import pytest
import report_schemas
from hypothesis import HealthCheck, settings

report_schemas.install()  # every JSON report a test parses is validated against its shipped schema

# Hypothesis's per-example deadline and its "too slow" health check time the machine, not medcom: on a loaded CI
# machine they fail tests whose properties hold (a 1.8 s draw of one datetime at load 16). No timed assertions.
settings.register_profile("medcom", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("medcom")


# The longest of the slow tests (each most of a minute of wall time on an idle 2-core machine), started first: the
# README top to bottom, the counterpart pairs (mostly waiting on their clocks), the calibration round trip.
LONGEST = ("test_the_readme_runs_top_to_bottom_in_one_folder", "test_medcom_against_medcom",
           "test_simulate_emit_calibrate_simulate_reproduces_the_first_run")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `slow` tests first, the LONGEST of them before the others, each file's in its order: with pytest-xdist
    handing out tests a few at a time (`--maxschedchunk` in pyproject.toml) the longest start while the short ones
    fill the other workers, instead of one starting near the end and running on alone (a minute of the suite's
    wall time)."""
    def order(item: pytest.Item) -> tuple[bool, int]:
        name = getattr(item, "originalname", item.name)
        return item.get_closest_marker("slow") is None, LONGEST.index(name) if name in LONGEST else len(LONGEST)

    items.sort(key=order)  # stable: the rest keep their order
