"""The agreement as policy data: the default loads, overrides change only what they name."""

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from medcom.policy import PolicyError, load_policy


def test_default_policy_is_the_nordjylland_agreement() -> None:
    p = load_policy()
    assert p.care_plan.cutoff == time(14) and p.acknowledgement.cutoff == time(14)
    assert p.correspondence.cutoff == time(14) and p.discharge.phone_cutoff == time(14)
    assert (p.completion_tax.contact_window_opens, p.completion_tax.contact_window_closes) == (time(8), time(21))
    assert p.extended_responsibility.window == timedelta(hours=72)
    assert p.extended_responsibility.min_stay == timedelta(hours=24)
    assert p.leave.max_period == timedelta(hours=72)
    assert p.discharge.advice_within == p.discharge.report_within == timedelta(minutes=60)
    assert p.messages.receipt_timeout == timedelta(minutes=30)
    rates = p.completion_tax.rates_for(2025)
    assert (rates.first_days, rates.first_rate, rates.later_rate) == (2, 3952, 5928)
    assert p.calendar.extra_closed_days == ()


def test_override_file_changes_only_that_parameter(tmp_path: Path) -> None:
    f = tmp_path / "window.toml"
    f.write_text("[care_plan]\ncutoff = 12:00:00\n", encoding="utf-8")
    default, changed = load_policy(), load_policy(f)
    assert changed.care_plan.cutoff == time(12)
    assert changed.acknowledgement == default.acknowledgement
    assert changed.completion_tax == default.completion_tax
    for name in ("calendar", "messages", "admission", "correspondence", "discharge",
                 "extended_responsibility", "leave", "risk"):
        assert getattr(changed, name) == getattr(default, name)


def test_strings_and_years_in_overrides(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('[calendar]\nextra_closed_days = ["2025-12-24"]\n[discharge]\nadvice_within = "1h30m"\n'
                 "[completion_tax.rates.2025]\nfirst_days = 2\nfirst_rate = 4500\nlater_rate = 6800\n",
                 encoding="utf-8")
    p = load_policy(f)
    assert p.calendar.extra_closed_days == (date(2025, 12, 24),)
    assert not p.business_calendar.is_weekday(date(2025, 12, 24))
    assert p.discharge.advice_within == timedelta(minutes=90)
    assert p.completion_tax.rates_for(2026).first_rate == 4500
    assert p.completion_tax.rates_for(2024).first_rate == 3952


@pytest.mark.parametrize(("override", "key"), [
    ({"care_plan": {"cutof": "12:00"}}, "care_plan.cutof"),
    ({"careplan": {"cutoff": "12:00"}}, "careplan"),
    ({"care_plan": {"cutoff": "25:00"}}, "care_plan.cutoff"),
    ({"care_plan": {"cutoff": "2pm"}}, "care_plan.cutoff"),
    ({"leave": {"max_period": "-3h"}}, "leave.max_period"),
    ({"leave": {"max_period": "three days"}}, "leave.max_period"),
    ({"messages": {"max_message_bytes": -1}}, "messages.max_message_bytes"),
    ({"calendar": {"extra_closed_days": ["24 Dec"]}}, "calendar.extra_closed_days[0]"),
    ({"completion_tax": {"contact_window_opens": "22:00"}}, "completion_tax.contact_window_opens"),
])
def test_bad_overrides_name_the_key(override: dict, key: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy().with_overrides(override)
    assert str(err.value).startswith(key)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[care_plan\ncutoff = 12:00:00\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="bad.toml"):
        load_policy(f)


def test_no_clock_time_is_hard_coded_in_the_code() -> None:
    """Planners vary cutoffs: rule code takes them from the policy, never writes 14:00 itself."""
    root = Path(__file__).resolve().parents[1]
    offenders = [str(p) for folder in ("medcom", "simulator") for p in (root / folder).rglob("*.py")
                 if "time(14" in p.read_text(encoding="utf-8") or '"14:00"' in p.read_text(encoding="utf-8")]
    assert offenders == []
