"""TAX-1's count of local midnights, on the one implementation (`count_tax`)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from medcom.calendar import TZ
from medcom.engine.completion_tax import TaxFacts, count_tax
from medcom.policy import TaxRates, load_policy

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


_hours = st.integers(0, 24 * 40)
_zones = st.sampled_from([UTC, TZ, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))])


@settings(max_examples=80, deadline=None)
@given(_hours, _hours, st.none() | _hours, st.lists(st.tuples(_hours, st.integers(1, 100)), max_size=2), _zones)
def test_the_count_is_the_same_in_whatever_zone_the_instants_come(ready, stay, terminal, leaves, zone) -> None:
    """The count compares instants (its local midnights in UTC against the facts in UTC): the zone the facts are
    written in changes nothing, also around the changes to and from summer time."""
    start = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)

    def at(hours: int, tz: tzinfo) -> datetime:
        return (start + timedelta(hours=hours, minutes=7)).astimezone(tz)

    def facts(tz: tzinfo) -> TaxFacts:
        return TaxFacts(ready_at=at(ready, tz), discharged_at=at(ready + stay, tz),
                        terminal_stay_from=at(terminal, tz) if terminal is not None else None,
                        leaves=tuple((at(a, tz), at(a + length, tz)) for a, length in leaves))

    assert count_tax(facts(zone), POLICY).counted_dates == count_tax(facts(TZ), POLICY).counted_dates


def test_each_day_is_priced_by_its_own_years_rates() -> None:
    """TAX-2: a wait across New Year prices each counted day by the rates of that day's year (the count's tiers
    run on over the year's end: the episode's first days are its first, whatever their year)."""
    rates = {2025: TaxRates(first_days=2, first_rate=100, later_rate=1000),
             2026: TaxRates(first_days=2, first_rate=200, later_rate=2000)}
    policy = replace(POLICY, completion_tax=replace(POLICY.completion_tax, rates=rates))
    result = count_tax(TaxFacts(ready_at=local("2025-12-30T10:00"), discharged_at=local("2026-01-03T11:00")), policy)
    assert result.counted_dates == ("2025-12-31", "2026-01-01", "2026-01-02", "2026-01-03")
    assert result.dkk == 100 + 200 + 2000 + 2000
