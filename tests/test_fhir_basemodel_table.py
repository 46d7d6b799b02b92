"""The base model's table (medcom/schemas/fhir-basemodel/r4b.json) is what fhir.resources says, and the check reads
it instead of building fhir.resources' pydantic models (basemodel.py)."""

from __future__ import annotations

import subprocess
import sys

from medcom.formats.fhir import basemodel


def test_the_shipped_table_is_what_the_installed_fhir_resources_says() -> None:
    shipped = basemodel._table()
    derived = basemodel.derive_table()
    assert len(derived) > 600 and derived["Bundle"][0] and not derived["BundleEntry"][0]
    assert sorted(shipped) == sorted(derived)
    assert [name for name in derived if shipped[name] != derived[name]] == []


def test_a_check_builds_no_pydantic_model() -> None:
    """Checking a message of each kind imports neither fhir.resources nor pydantic (about 0.45 s of CPU a process,
    in every replay worker)."""
    script = (
        "import sys\n"
        "from medcom.formats.fhir import igpackages, parse, validate_resource\n"
        "checked = 0\n"
        "for name, raw in igpackages.example_bundles().items():\n"
        "    parsed = parse(raw, name)\n"
        "    if parsed.resource is not None:\n"
        "        validate_resource(parsed.resource, name, parsed.lines)\n"
        "        checked += 1\n"
        "assert checked > 10, checked\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fhir.resources', 'fhir_core', 'pydantic'))))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
