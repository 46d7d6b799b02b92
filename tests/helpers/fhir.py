"""Shared helpers of the FHIR tests: the example Bundles and small ways to change them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from lxml import etree

from helpers import TESTS

DATA = TESTS / "data" / "fhir"
HOSPITAL = DATA / "hospitalnotification-3.0.2"
CARE = DATA / "carecommunication-5.0.2"
ACK = DATA / "acknowledgement-2.0.3"
ADMISSION = HOSPITAL / "Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"  # STIN
CARE_NEW = CARE / "Bundle-add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c.json"
ACK_OK = ACK / "Bundle-a8c041b8-c65a-4fde-a90f-962076918834.json"

# CareCommunication examples in the reference folder that are not in the 5.0.2 package: an older version of the IG
# (no MessageHeader.definition, no Communication.identifier, the messaging Provenance profile).
OLDER_CARE_EXAMPLES = frozenset({
    "Bundle-df9019c6-690d-11ed-9022-0242ac120002.json", "Bundle-ed3e05b2-551d-11ed-bdc3-0242ac120002.json",
    "Bundle-f922f204-4a08-4a7a-a900-63b6e0e92b3e.json", "Bundle-he3588a5-321e-405c-a5fc-3e2ef672eeeb.json",
    "Bundle-i5113a08-b1f8-4440-92aa-087d7441178f.json", "Bundle-jf7e4c80-551a-11ed-bdc3-0242ac120002.json"})


def load(path: Path) -> dict:
    return json.loads(path.read_bytes())


def dump(bundle: dict) -> bytes:
    return json.dumps(bundle, indent=2, default=str).encode()


def entry_index(bundle: dict, resource_type: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == resource_type)


def resource(bundle: dict, resource_type: str) -> dict:
    return bundle["entry"][entry_index(bundle, resource_type)]["resource"]


def mutated(path: Path, change) -> dict:  # noqa: ANN001 - a callable taking the bundle
    bundle = copy.deepcopy(load(path))
    change(bundle)
    return bundle


def canonical_divs(value: object) -> object:
    """The resource with each narrative div in canonical XML, so that JSON and XML forms compare equal."""
    if isinstance(value, dict):
        return {k: (etree.tostring(etree.fromstring(v), method="c14n").decode() if k == "div" and isinstance(v, str)
                    else canonical_divs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_divs(v) for v in value]
    return value
