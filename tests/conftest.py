"""Test-suite wide: every JSON report a test reads is checked against the schema it names (report_schemas); the
long tests run first."""

from __future__ import annotations

import pytest
import report_schemas

report_schemas.install()  # every JSON report a test parses is validated against its shipped schema


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `slow` tests first, each file's in its order: with pytest-xdist handing out tests a few at a time
    (`--maxschedchunk` in pyproject.toml) the longest start while the short ones fill the other workers, instead
    of one starting near the end and running on alone (a minute of the suite's wall time)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: the rest keep their order
