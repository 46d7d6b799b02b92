"""A hostile differential test of the remembered FHIR walks (medcom.formats.fhir.walks): a clean Bundle is judged
first (its walks remembered), then mutants of it that change what a remembered walk could wrongly take as the
same (a string's text, a reference's target, an entry's place, a fullUrl, a profile's version, a target's
content...); each verdict (every finding in order with its line and location, the unchecked counts, the profile
and IG version judged by) must be the verdict of the real validator with remembering switched off.

A few seconds run with the tests; `MEDCOM_FUZZ_EXAMPLES=5000 pytest tests/test_fhir_walks_differential.py` runs
thousands of mutants."""

from __future__ import annotations

import os
import random
from functools import cache

import pytest
from helpers.fhir_walk_diff import MUTATIONS, fresh, learn, mutant, renamed, unremembered, verdict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fhir_medcom_invariants import _bundles

from medcom.formats.fhir import walks

TOTAL = int(os.environ.get("MEDCOM_FUZZ_EXAMPLES", "200"))
SETTINGS = {"deadline": None, "derandomize": TOTAL <= 200, "database": None,
            "suppress_health_check": [HealthCheck.too_slow]}


@cache
def _clean() -> tuple[dict, ...]:
    found = tuple(_bundles())
    learn(found)
    return found


def _differences(bundle: dict, said: object) -> None:
    remembered, alone = verdict(bundle), fresh(bundle)
    assert remembered == alone, said


@settings(max_examples=max(10, TOTAL // 20), **SETTINGS)  # type: ignore[arg-type]
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=4))
def test_mutants_of_a_remembered_bundle_get_the_verdict_of_a_fresh_walk(pick: int, seed: int, mutants: int) -> None:
    walks.forget()
    clean = _clean()[pick % len(_clean())]
    _differences(clean, "the clean Bundle")
    rng = random.Random(seed)
    for _ in range(mutants):
        bundle, said = mutant(clean, rng, rng.choice([1, 1, 2, 3]))
        _differences(bundle, said)


@pytest.mark.parametrize("change", MUTATIONS, ids=lambda m: m.__name__)
def test_each_kind_of_mutation_after_its_clean_bundle(change: object) -> None:
    """Every kind of mutation, on every distinct example Bundle, right after it (the walks of all Bundles before
    remembered too)."""
    walks.forget()
    rng = random.Random(change.__name__)  # type: ignore[attr-defined]
    done = 0
    for clean in _clean()[:: max(1, 2000 // max(TOTAL, 1))]:
        verdict(clean)
        bundle = mutant(clean, rng, 0)[0]
        said = change(bundle, rng)  # type: ignore[operator]
        if said is not None:
            _differences(bundle, f"{change.__name__}: {said}")  # type: ignore[attr-defined]
            done += 1
    assert done


@pytest.mark.parametrize("change", MUTATIONS, ids=lambda m: m.__name__)
def test_a_mutant_judged_again_under_new_uuids_gets_the_verdict_of_a_fresh_walk(change: object) -> None:
    """Every kind of mutation, then the same mutant as the next message of a log would carry it (every uuid
    renamed): the walks remembered from the mutant's own verdict (a Bundle's walk with a MessageHeader that does not
    conform, a Communication whose references resolve elsewhere) are replayed on the copy, whose verdict must still
    be the fresh one."""
    walks.forget()
    rng = random.Random(f"again-{change.__name__}")  # type: ignore[attr-defined]
    done = 0
    for clean in _clean()[:: max(1, 2000 // max(TOTAL, 1))]:
        bundle = mutant(clean, rng, 0)[0]
        said = change(bundle, rng)  # type: ignore[operator]
        if said is not None:
            verdict(bundle)
            _differences(renamed(bundle, rng), f"{change.__name__} (renamed): {said}")  # type: ignore[attr-defined]
            done += 1
    assert done


def test_the_oracle_walks_afresh() -> None:
    """With remembering switched off nothing is looked up or recorded; with it on, a second copy is replayed."""
    clean = _clean()[0]
    walks.forget()
    with unremembered():
        verdict(clean)
    assert not walks._WALKS and not walks._STRUCTURES
    verdict(clean)
    assert walks._WALKS and walks._STRUCTURES


def test_memory_stays_bounded_and_forgetting_at_the_limit_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny LIMIT: the walks are forgotten again and again in the middle of messages; each verdict is still the
    fresh one, and no more than LIMIT walks are ever held."""
    monkeypatch.setattr(walks, "LIMIT", 3)
    walks.forget()
    rng = random.Random(5)
    for clean in _clean()[:: max(1, 1000 // max(TOTAL, 1))]:
        for bundle in (clean, mutant(clean, rng, 1)[0], clean):
            _differences(bundle, "at a tiny limit")
            held = sum(len(found) for table in walks._WALKS.values() for found in table.values())
            assert held <= walks.LIMIT
            assert walks._remembered <= walks.LIMIT
            assert len(walks._STRUCTURES) <= walks.LIMIT
