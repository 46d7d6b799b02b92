"""The message rules beyond the schema, on a parsed Emessage of any generation (RULES.md M-CPR, M-GLN,
M-MUNICIPALITY, M-TIME): one walk over the tree, by local element names."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from lxml import etree

from medcom.calendar import LocalTimeKind, classify_local, localize
from medcom.findings import RECEIVER_GLN, RECEIVER_MUNICIPALITY, Severity
from medcom.formats.oioxml.letters import children, text_of, wall_time_from, wall_time_of
from medcom.formats.oioxml.names import LOCAL_NAMES, local_name
from medcom.identifiers import ascii_digits, check_cpr, check_gln, check_municipality


class Add(Protocol):
    """Report a finding on an element, with its machine code where a decision needs one."""

    def __call__(self, rule: str, severity: Severity, text: str, el: etree._Element, *,
                  code: str | None = None) -> None: ...


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


def _of_receiver(el: etree._Element, root: etree._Element) -> bool:
    """Whether `el` identifies the letter's receiver: a child of the Receiver of a letter (a child of the root),
    not of an element of that name elsewhere in the letter."""
    party = el.getparent()
    letter = party.getparent() if party is not None else None
    return party is not None and local_name(party) == "Receiver" and letter is not None \
        and letter.getparent() is root


def _looks_like_gln(value: str) -> bool:
    """A location number written in digits; VANS mailbox ids (DKKMDKMDNET) are not GLNs and are not checked."""
    return ascii_digits(value, 100)


_CHECKED = ("{*}CivilRegistrationNumber", "{*}EANIdentifier", "{*}IdentifierCode", "{*}Date")


def check_identifiers_and_times(root: etree._Element, add: Add, *,
                                sent_before_event: bool) -> dict[etree._Element, datetime | None]:
    """M-CPR, M-GLN (a warning: real senders use numbers that fail the check digit), M-MUNICIPALITY and the
    local-time rules (T-2) over the whole tree; with `sent_before_event`, also a message sent before the
    admission or discharge it reports (validate; replay leaves that to ADM-1 and DIS-1). Returns the wall times
    read, by their Date/Time holder element (for reading the letters without reading them again).

    lxml's C iteration picks the four names; each hit's local name is one look-up of its tag (LOCAL_NAMES), and a
    Date's holder is read once however many Dates it holds."""
    sent: datetime | None = None
    events: list[tuple[etree._Element, datetime]] = []
    wall_times: dict[etree._Element, datetime | None] = {}
    known = LOCAL_NAMES.get
    for el in root.iter(*_CHECKED):
        name = known(el.tag) or local_name(el)
        if name == "Date":
            holder = el.getparent()
            if holder is None or (naive := _holder_time(el, holder, wall_times, add)) is None:
                continue  # the schema reports malformed dates and times
            role = _role(holder) if sent_before_event else None  # M-TIME's "sent before" only asks it
            if role == "sent":
                sent = naive
            elif role == "event":
                events.append((holder, naive))
            continue
        text = text_of(el) or ""
        if name == "CivilRegistrationNumber":
            if problem := check_cpr(text):
                add("M-CPR", Severity.ERROR, problem, el)
        elif name == "EANIdentifier":
            if _looks_like_gln(text) and (problem := check_gln(text)):
                add("M-GLN", Severity.WARNING, problem, el,
                    code=RECEIVER_GLN if _of_receiver(el, root) else "gln")
        elif text == "kommunenummer":  # an IdentifierCode
            ident = next(el.itersiblings(etree.Element, preceding=True), None)  # past comments and PIs
            if ident is not None and local_name(ident) == "Identifier" \
                    and (problem := check_municipality(text_of(ident) or "")):
                add("M-MUNICIPALITY", Severity.ERROR, problem, ident,
                    code=RECEIVER_MUNICIPALITY if _of_receiver(ident, root) else "municipality")
    if sent_before_event and sent is not None:
        for holder, event in events:
            if sent < event and localize(sent, strict=False) < localize(event, strict=False):
                add("M-TIME", Severity.ERROR, f"sent {sent:%Y-%m-%d %H:%M} before the {local_name(holder).lower()} "
                    f"it reports ({event:%Y-%m-%d %H:%M})", holder)
    return wall_times


def _role(holder: etree._Element) -> str | None:
    """'sent' for the envelope's Sent, 'event' for the admission or discharge a body reports, else None."""
    known = LOCAL_NAMES.get
    above = holder.getparent()  # None when the root holds a Date (a malformed Emessage)
    holder_name = known(holder.tag) or local_name(holder)
    parent_name = (known(above.tag) or local_name(above)) if above is not None else ""
    if holder_name == "Sent" and parent_name == "Envelope":
        return "sent"
    return "event" if EVENT_OF_BODY.get(parent_name) == holder_name else None


def _holder_time(date: etree._Element, holder: etree._Element, wall_times: dict[etree._Element, datetime | None],
                 add: Add) -> datetime | None:
    """The wall time of a Date's holder (read once per holder, kept in `wall_times`), checked by T-2 for each Date
    it holds, as before."""
    if holder in wall_times:
        naive = wall_times[holder]
    else:
        naive = wall_times[holder] = _wall_time(date, holder)
    if naive is not None and classify_local(naive) is not LocalTimeKind.NORMAL:
        _check_local_time(holder, naive, add)
    return naive


_CLOCKS = frozenset({"Time", "TimeWithSec"})


def _wall_time(date: etree._Element, holder: etree._Element) -> datetime | None:
    """`wall_time_of(children(holder))`, read from the Date and its one sibling where the holder holds just those
    two nodes, Date first, as nearly every holder does (no walk over the holder's children, no dict); any other
    holder is read by its children."""
    if date.getprevious() is None and (clock := date.getnext()) is not None and clock.getnext() is None \
            and LOCAL_NAMES.get(clock.tag) in _CLOCKS:  # a comment's tag is a function: no name, the long way
        return wall_time_from(text_of(date), text_of(clock))
    return wall_time_of(children(holder))


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
