"""The message families: body element, version code, namespace and XSD of each, and schema loading.

A document is recognised by its root element's namespace (which carries family and version, in MedCom
style) and its body element; `schema_for()` returns the compiled XSD for that pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from lxml import etree

from medcom.formats.dialect.model import (
    AdmissionAdvice,
    AdmissionReport,
    CarePlan,
    CompletionNotice,
    Correspondence,
    DischargeAdvice,
    DischargeReport,
    Message,
    NegativeReceipt,
    PositiveReceipt,
)

NAMESPACE_PREFIX = "urn:medcom-oss:schema"


@dataclass(frozen=True)
class FamilySpec:
    """One message family: its model class, body element, version and schema file."""

    cls: type[Message]
    body: str
    version: str
    schema_file: str
    danish_name: str

    @property
    def code(self) -> str:
        return self.cls.FAMILY

    namespace: str = field(init=False)

    def __post_init__(self) -> None:
        group, name = ("ctl", "xctl") if self.code.startswith("XCTL") else ("meddis", self.code.lower())
        object.__setattr__(self, "namespace", f"{NAMESPACE_PREFIX}:{group}:{name}:{self.version.lower()}")


FAMILIES: tuple[FamilySpec, ...] = (
    FamilySpec(AdmissionAdvice, "NotificationOfAdmission", "XD2001M", "xdis20.xsd", "Indlæggelsesadvis"),
    FamilySpec(AdmissionReport, "ReportOfAdmission", "XD1601M", "xdis16.xsd", "Indlæggelsesrapport"),
    FamilySpec(CarePlan, "ProgressOfCarePlan", "XD2101M", "xdis21.xsd", "Plejeforløbsplan"),
    FamilySpec(CompletionNotice, "NotificationOfCompletedTreatment", "XD1901M", "xdis19.xsd",
               "Melding om færdigbehandling"),
    FamilySpec(DischargeAdvice, "NotificationOfDischarge", "XD1701M", "xdis17.xsd", "Udskrivningsadvis"),
    FamilySpec(DischargeReport, "ReportOfDischarge", "XD1801M", "xdis18.xsd", "Udskrivningsrapport"),
    FamilySpec(Correspondence, "ClinicalEmail", "XD9101M", "xdis91.xsd", "Korrespondancemeddelelse"),
    FamilySpec(PositiveReceipt, "PositiveReceipt", "XC0301M", "xctl.xsd", "Positiv kvittering"),
    FamilySpec(NegativeReceipt, "NegativeReceipt", "XC0301M", "xctl.xsd", "Negativ kvittering"),
)

_BY_CLASS = {spec.cls: spec for spec in FAMILIES}
_BY_ELEMENT = {(spec.namespace, spec.body): spec for spec in FAMILIES}
NAMESPACES = frozenset(spec.namespace for spec in FAMILIES)


def spec_for_class(cls: type[Message]) -> FamilySpec:
    return _BY_CLASS[cls]


def spec_for_body(namespace: str, body: str) -> FamilySpec | None:
    """The family of a document whose root has `namespace` and whose body element is `body`."""
    return _BY_ELEMENT.get((namespace, body))


def schema_source(name: str) -> bytes:
    """The bytes of one XSD shipped in `schemas/`."""
    return resources.files("medcom.formats.dialect.schemas").joinpath(name).read_bytes()


@cache
def schema_for(schema_file: str) -> etree.XMLSchema:
    """The compiled XSD (lxml, XSD 1.0). Includes resolve inside the shipped schema folder only."""
    path = resources.files("medcom.formats.dialect.schemas").joinpath(schema_file)
    with resources.as_file(path) as real_path:
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        return etree.XMLSchema(etree.parse(str(real_path), parser))
