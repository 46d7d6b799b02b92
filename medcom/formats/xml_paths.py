"""Find the element a validator's error names: lxml reports XMLSchema errors with an XPath written with the
document's own namespace prefixes (real MedCom messages carry them), which must be bound to evaluate it."""

from __future__ import annotations

from lxml import etree


def document_prefixes(root: etree._Element) -> dict[str, str]:
    """Every namespace prefix the document declares (real MedCom messages carry prefixes)."""
    return {p: ns for el in root.iter() if isinstance(el.tag, str) for p, ns in el.nsmap.items() if p}


def element_at(root: etree._Element, path: str | None, prefixes: dict[str, str]) -> etree._Element | None:
    """The element a schema error's path names (written with the document's prefixes), or None: a path that
    cannot be evaluated leaves the finding without an element, never raises."""
    if not path:
        return None
    try:
        hits = root.xpath(path, namespaces=prefixes)
    except etree.XPathError:
        return None
    return hits[0] if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element) else None
