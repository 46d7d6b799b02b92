"""The JSON Schemas (draft 2020-12) of medcom's JSON reports, shipped in the package (medcom/schemas/reports/).

Every JSON report names its schema in its `$schema` key, a URN that is the schema's `$id` and carries its version
("urn:medcom:report:replay:1"); a change that breaks a reader gets a new version, a field added keeps it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

REPORTS = ("validate", "replay", "simulate", "sweep", "calibrate", "counterpart")
VERSION = 1
VALIDATE, REPLAY, SIMULATE, SWEEP, CALIBRATE, COUNTERPART = (f"urn:medcom:report:{name}:{VERSION}" for name in REPORTS)


def schema_of(uri: str) -> dict[str, Any]:
    """The shipped schema whose `$id` is `uri` (a report's `$schema`); KeyError for one medcom does not ship."""
    parts = uri.split(":")
    if len(parts) != 5 or parts[:3] != ["urn", "medcom", "report"] or parts[3] not in REPORTS \
            or parts[4] != str(VERSION):
        raise KeyError(uri)
    text = resources.files("medcom").joinpath("schemas", "reports", f"{parts[3]}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
