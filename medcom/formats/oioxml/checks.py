"""The message rules beyond the schema, on a parsed Emessage of any generation (RULES.md M-CPR, M-GLN,
M-MUNICIPALITY, M-TIME): one walk over the tree, by local element names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from medcom.calendar import LocalTimeKind, classify_local, localize
from medcom.findings import Severity
from medcom.formats.oioxml.letters import wall_time
from medcom.formats.oioxml.names import local_name
from medcom.identifiers import ascii_digits, check_cpr, check_gln, check_municipality

Add = Callable[[str, Severity, str, etree._Element], None]

# The event each body reports, which it cannot be sent before (M-TIME; in replay ADM-1 and DIS-1 say it).
EVENT_OF_BODY = {"NotificationOfAdmission": "Admission", "NotificationOfDischarge": "Discharge"}


class PathNamer:
    """`readable_path` for many elements of one document: each parent's children are named and numbered once
    (counting the root's children again for each finding made a document of many letters quadratic)."""

    def __init__(self) -> None:
        self._steps: dict[etree._Element, dict[etree._Element, str]] = {}

    def _step(self, node: etree._Element, parent: etree._Element) -> str:
        steps = self._steps.get(parent)
        if steps is None:
            named = [(c, local_name(c)) for c in parent if isinstance(c.tag, str)]
            counts: dict[str, int] = {}
            for _, name in named:
                counts[name] = counts.get(name, 0) + 1
            seen: dict[str, int] = {}
            steps = self._steps[parent] = {}
            for child, name in named:
                seen[name] = seen.get(name, 0) + 1
                steps[child] = name if counts[name] == 1 else f"{name}[{seen[name]}]"
        return steps[node]

    def __call__(self, el: etree._Element) -> str:
        parts = []
        node: etree._Element | None = el
        while node is not None:
            parent = node.getparent()
            parts.append(self._step(node, parent) if parent is not None else local_name(node))
            node = parent
        return "/" + "/".join(reversed(parts))


def readable_path(el: etree._Element) -> str:
    """/Emessage/ProgressOfCarePlan/Patient/CivilRegistrationNumber, with [n] where siblings share a name."""
    return PathNamer()(el)


def _looks_like_gln(value: str) -> bool:
    """A location number written in digits; VANS mailbox ids (DKKMDKMDNET) are not GLNs and are not checked."""
    return ascii_digits(value, 100)


def check_identifiers_and_times(root: etree._Element, add: Add, *,
                                sent_before_event: bool) -> dict[etree._Element, datetime | None]:
    """M-CPR, M-GLN (a warning: real senders use numbers that fail the check digit), M-MUNICIPALITY and the
    local-time rules (T-2) over the whole tree; with `sent_before_event`, also a message sent before the
    admission or discharge it reports (validate; replay leaves that to ADM-1 and DIS-1). Returns the wall times
    read, by their Date/Time holder element (for reading the letters without reading them again)."""
    sent: datetime | None = None
    events: list[tuple[etree._Element, datetime]] = []
    wall_times: dict[etree._Element, datetime | None] = {}
    for el in root.iter("{*}CivilRegistrationNumber", "{*}EANIdentifier", "{*}IdentifierCode", "{*}Date"):
        name = local_name(el)
        text = (el.text or "").strip()
        if name == "CivilRegistrationNumber":
            if problem := check_cpr(text):
                add("M-CPR", Severity.ERROR, problem, el)
        elif name == "EANIdentifier":
            if _looks_like_gln(text) and (problem := check_gln(text)):
                add("M-GLN", Severity.WARNING, problem, el)
        elif name == "IdentifierCode":
            ident = el.getprevious()
            if text == "kommunenummer" and ident is not None and local_name(ident) == "Identifier" \
                    and (problem := check_municipality((ident.text or "").strip())):
                add("M-MUNICIPALITY", Severity.ERROR, problem, ident)
        else:
            holder = el.getparent()
            if holder is None:
                continue
            naive = wall_times[holder] = wall_time(holder)
            if naive is None:
                continue  # the schema reports malformed dates and times
            _check_local_time(holder, naive, add)
            above = holder.getparent()  # None when the root holds a Date (a malformed Emessage)
            holder_name, parent_name = local_name(holder), local_name(above) if above is not None else ""
            if holder_name == "Sent" and parent_name == "Envelope":
                sent = naive
            elif EVENT_OF_BODY.get(parent_name) == holder_name:
                events.append((holder, naive))
    if sent_before_event and sent is not None:
        for holder, event in events:
            if sent < event and localize(sent, strict=False) < localize(event, strict=False):
                add("M-TIME", Severity.ERROR, f"sent {sent:%Y-%m-%d %H:%M} before the {local_name(holder).lower()} "
                    f"it reports ({event:%Y-%m-%d %H:%M})", holder)
    return wall_times


def _check_local_time(holder: etree._Element, naive: datetime, add: Add) -> None:
    """T-2: a local time in the spring gap is an error; one in the autumn fold a warning."""
    kind = classify_local(naive)
    if kind is LocalTimeKind.NORMAL:
        return
    what = local_name(holder)
    if kind is LocalTimeKind.NONEXISTENT:
        add("M-TIME", Severity.ERROR, f"{what} {naive:%Y-%m-%d %H:%M:%S} does not exist in Danish time (the clocks "
            "skip it when summer time starts)", holder)
    else:
        add("M-TIME", Severity.WARNING, f"{what} {naive:%Y-%m-%d %H:%M:%S} occurs twice when summer time ends; read "
            "as the first occurrence (summer time)", holder)
