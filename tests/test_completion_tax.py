"""TAX-1's count of local midnights, on the one implementation (`count_tax`)."""

from datetime import datetime

from medcom.calendar import TZ
from medcom.engine.completion_tax import TaxFacts, count_tax
from medcom.policy import load_policy

POLICY = load_policy()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def days(ready: str, discharged: str) -> int:
    return count_tax(TaxFacts(ready_at=local(ready), discharged_at=local(discharged)), POLICY).days


def test_rules_md_examples() -> None:
    # RULES.md TAX-1: ready Monday 10:00; discharged Monday 18:00 -> 0, Tuesday 09:00 -> 1, Thursday 11:00 -> 3.
    assert days("2025-03-24T10:00", "2025-03-24T18:00") == 0
    assert days("2025-03-24T10:00", "2025-03-25T09:00") == 1
    assert days("2025-03-24T10:00", "2025-03-27T11:00") == 3


def test_midnights_are_local_across_the_change_to_summer_time() -> None:
    # Saturday 29 March 10:00 to Monday 31 March 09:00 is 46 hours of elapsed time and two local midnights.
    assert days("2025-03-29T10:00", "2025-03-31T09:00") == 2
    assert days("2025-03-29T10:00", "2025-03-30T23:59:59") == 1
    # A discharge at the midnight itself counts it ("up to the discharge").
    assert days("2025-03-29T10:00", "2025-03-31T00:00") == 2
