"""The OIOXML generations and message families medcom knows: namespace, body element, version code, schema.

MedCom's admission/discharge families live in several schema generations at once (docs/MESSAGES.md): the
official 2005/08/07 (XDIS17, XDIS20, XDIS19, XCTL01-03),
2006/07/01 (XDIS91) and 2007/02/01 (XDIS16, XDIS18) XSDs, and the "34C" generation (XDIS21, XDIS18, XDIS16,
XDIS19) whose XSDs are not published offline: medcom validates it with schemas of its own, written from the
facts of real messages. A letter is recognised by its body element's namespace and name; its VersionCode
must then be the one that body has in that generation.
"""

from __future__ import annotations

from dataclasses import dataclass

OIO = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/"
MUNICIPALITY_NS = "urn:oio:medcom:municipality:"
NS_2005, NS_2006, NS_2007 = (f"{OIO}{g}/" for g in ("2005/08/07", "2006/07/01", "2007/02/01"))
NS_34C_ROOT = f"{MUNICIPALITY_NS}1.0.3"  # root, body, Letter and most clinical blocks
NS_34C_COMMON = f"{MUNICIPALITY_NS}1.0.0"  # Envelope, Sender, Receiver, Patient, Admission, Date/Time ...
NS_34C_102 = f"{MUNICIPALITY_NS}1.0.2"  # ExpectedEndOfTreatment, AgreedDischargeComment


@dataclass(frozen=True, slots=True)
class Generation:
    """One schema generation: its root namespace and the schema that judges it."""

    name: str  # "2005/08/07", "34C"
    namespace: str  # the namespace of the root Emessage and the body elements
    schema: str  # entry-point XSD, relative to the schemas folder
    official: bool  # MedCom's published XSD (True) or the project's own (False)

    @property
    def schema_label(self) -> str:
        kind = "official MedCom XSD" if self.official else "medcom's own schema (MedCom's XSD is not published offline)"
        return f"{kind} {self.name} ({self.schema})"


@dataclass(frozen=True, slots=True)
class Family:
    """A message family in one generation: how it is recognised and what role it has in the agreement."""

    code: str  # statistical code: XDIS20, XCTL03 ...
    body: str  # body element name
    version: str  # VersionCode
    generation: Generation
    role: str  # what it is in the agreement (MESSAGES.md)

    @property
    def is_receipt(self) -> bool:
        return self.code.startswith("XCTL")


GEN_2005 = Generation("2005/08/07", NS_2005, "2005/08/07/EMessage.xsd", True)
GEN_2006 = Generation("2006/07/01", NS_2006, "2006/07/01/EMessage.xsd", True)
GEN_2007 = Generation("2007/02/01", NS_2007, "2007/02/01/EMessage.xsd", True)
GEN_34C = Generation("34C", NS_34C_ROOT, "34C/Emessage-34C.xsd", False)
GENERATIONS = (GEN_2005, GEN_2006, GEN_2007, GEN_34C)

FAMILIES: tuple[Family, ...] = (
    Family("XDIS20", "NotificationOfAdmission", "XD2030C", GEN_2005, "admission advice"),
    Family("XDIS17", "NotificationOfDischarge", "XD1730C", GEN_2005, "discharge advice"),
    Family("XDIS19", "WarningOfDischarge", "XD1930C", GEN_2005, "completion notice"),
    Family("XCTL01", "NegativeVansReceipt", "XC0130Q", GEN_2005, "negative VANS receipt"),
    Family("XCTL02", "NegativeReceipt", "XC0230Q", GEN_2005, "negative receipt"),
    Family("XCTL03", "PositiveReceipt", "XC0330Q", GEN_2005, "positive receipt"),
    Family("XDIS91", "ClinicalEmail", "XD9134L", GEN_2006, "correspondence"),
    Family("XDIS16", "ReportOfAdmission", "XD1630C", GEN_2007, "admission report"),
    Family("XDIS18", "ReportOfDischarge", "XD1830C", GEN_2007, "discharge report"),
    Family("XDIS21", "ProgressOfCarePlan", "XD2134C", GEN_34C, "care plan"),
    Family("XDIS18", "ReportOfDischarge", "XD1834C", GEN_34C, "discharge report"),
    Family("XDIS16", "ReportOfAdmission", "XD1634C", GEN_34C, "admission report"),
    Family("XDIS19", "WarningOfDischarge", "XD1934C", GEN_34C, "completion notice"),
)

_BY_NAMESPACE = {g.namespace: g for g in GENERATIONS}
_BY_CODE_VERSION = {(f.code, f.version): f for f in FAMILIES}
_BY_TAG = {f"{{{f.generation.namespace}}}{f.body}": f for f in FAMILIES}  # lxml's tag of each family's body


def generation_of(namespace: str | None) -> Generation | None:
    """The generation whose Emessage lives in `namespace` (None: not an OIOXML generation medcom knows)."""
    return _BY_NAMESPACE.get(namespace or "")


def family_of_tag(tag: object) -> Family | None:
    """The family of a body element, by its lxml tag ('{namespace}name'; a comment's tag, a function, is none):
    one look-up, no namespace split."""
    return _BY_TAG.get(tag) if isinstance(tag, str) else None


def family_by_version(code: str, version: str) -> Family:
    """The family that writes `code` in `version` (for writers); KeyError names what is unknown."""
    return _BY_CODE_VERSION[(code, version)]


def known_versions() -> str:
    """'XDIS20 XD2030C, ...' for messages that name an unknown version."""
    return ", ".join(f"{f.code} {f.version}" for f in FAMILIES)
