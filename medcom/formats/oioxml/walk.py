"""One walk over a parsed Emessage that gathers what the message rules and the letter reading need, so that
neither walks the tree again.

The walk visits every element once (lxml's C iterator; one dictionary step an element in Python) and keeps:
- for each child of the root (the envelope, each letter), its elements by local-name path, the first of each name
  at every step, as `find("{*}A/{*}B")` through first children would find them ("Sender/AnswerTo/EANIdentifier");
- every element the message rules judge wherever it is (CPR and location numbers, municipality codes, dates), in
  document order;
- the first Date, Time and TimeWithSec of each element that holds one (a point in time, read once).
Reading by local names is what the letters need: 34C spreads one letter over three namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from medcom.formats.oioxml.names import LOCAL_NAMES, local_name

# Elements the message rules judge wherever they are (medcom.formats.oioxml.checks).
CHECKED = frozenset({"CivilRegistrationNumber", "EANIdentifier", "IdentifierCode", "Date"})
CLOCK_PARTS = frozenset({"Date", "Time", "TimeWithSec"})
Index = dict[str, etree._Element]  # local-name path below a child of the root -> the first element there


@dataclass(slots=True)
class Part:
    """A child of the root (the envelope, a letter, anything else) and its elements by local-name path."""

    element: etree._Element
    name: str
    index: Index = field(default_factory=dict)

    def text(self, path: str) -> str | None:
        """The stripped text of the element at `path` (None: no such element, or no text)."""
        el = self.index.get(path)
        return None if el is None else (el.text or "").strip() or None


@dataclass(slots=True)
class Walked:
    """What one walk over an Emessage found (see the module's docstring)."""

    parts: list[Part]
    checked: list[tuple[str, etree._Element]]  # (local name, element), in document order
    clocks: dict[etree._Element, dict[str, etree._Element]]  # holder -> its first Date, Time, TimeWithSec


def walk_emessage(root: etree._Element) -> Walked:
    """Walk the Emessage below `root` once (see the module's docstring)."""
    names = LOCAL_NAMES
    parts: list[Part] = []
    checked: list[tuple[str, etree._Element]] = []
    clocks: dict[etree._Element, dict[str, etree._Element]] = {}
    for top in root.iterchildren(etree.Element):
        part = Part(top, names.get(top.tag) or local_name(top))
        parts.append(part)
        index = part.index
        paths: dict[etree._Element, str] = {top: ""}  # elements that are the first of their name at every step
        for el in top.iter(etree.Element):
            name = names.get(el.tag) or local_name(el)
            parent = el.getparent()
            if el is not top:
                above = paths.get(parent)
                if above is not None:
                    path = f"{above}/{name}" if above else name
                    if path not in index:
                        index[path] = el
                        paths[el] = path
            if name in CHECKED:
                checked.append((name, el))
            if name in CLOCK_PARTS:
                clock = clocks.get(parent)
                if clock is None:
                    clock = clocks[parent] = {}
                if name not in clock:
                    clock[name] = el
    return Walked(parts, checked, clocks)
