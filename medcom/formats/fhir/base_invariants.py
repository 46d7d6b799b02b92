"""FHIR's base invariants that run on every resource, entry and extension, answered in Python where the answer is
plain from the instance, so that fhirpathpy is asked only about the rest.

Each function takes the element's value and the resource it is in and returns the invariant's verdict, or
`ASK_FHIRPATH` when the value is not one of the plain shapes it knows; the validator then evaluates the expression
with fhirpathpy as before. Plain means: what the expression navigates is there as FHIR JSON has it (objects,
arrays of objects, strings), and no object on the way has a `resourceType` it should not have (fhirpathpy reads
an object with a `resourceType` as a resource, and fails on one that is not a string), whichever operand of an
`or` or `implies` decides, since fhirpathpy evaluates them all. A shortcut is used only for the exact expression
it was written for (`native(key, expression)`), so a profile that changes an invariant's expression gets
fhirpathpy. The shortcuts are tested against fhirpathpy on the shipped examples and on mutations of them
(tests/test_fhir_base_invariants.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final

from medcom.formats import xmlsafe

ASK_FHIRPATH: Final = object()  # this shape is not plain: evaluate the expression with fhirpathpy
UNEVALUABLE: Final = object()  # the expression cannot be evaluated here: counted as not checked

# (the element's value, its resource, the validation's fhirpath Session) -> bool, ASK_FHIRPATH or UNEVALUABLE
Native = Callable[[object, dict, Any], object]
STRUCTURE_CHECKED = frozenset({"ele-1"})  # "has a value or children": the structure check's empty-element rule


def _r4_choice_types(path: str) -> frozenset[str]:
    """The types fhirpathpy's R4 model lets a choice element's name stand for, read from its model file without
    importing fhirpathpy (its parser, 0.05 s of CPU, which a replay whose invariants all have shortcuts never
    needs)."""
    spec = find_spec("fhirpathpy")
    assert spec is not None and spec.origin is not None
    model = Path(spec.origin).parent / "models" / "r4" / "choiceTypePaths.json"
    return frozenset(json.loads(model.read_bytes())[path])


_EXTENSION_VALUE_TYPES = _r4_choice_types("Extension.value")  # what `value` finds


def _element(value: object) -> bool:
    """An object that is not read as a resource."""
    return isinstance(value, dict) and "resourceType" not in value


def _resource(value: object, kind: str | None = None) -> bool:
    """An object with a resource type (this one, if given)."""
    if not isinstance(value, dict):
        return False
    found = value.get("resourceType")
    return isinstance(found, str) and (kind is None or found == kind)


def _absent(value: dict, name: str) -> bool:
    """Neither the member nor its `_name` twin is there."""
    return name not in value and "_" + name not in value


def _plain_string(value: dict, name: str) -> bool:
    """The member is absent, or a non-empty string without a `_name` twin."""
    if "_" + name in value:
        return False
    item = value.get(name)
    return (item is None and name not in value) or (isinstance(item, str) and bool(item))


def _no_contained(value: object, _resource_: dict, _session: object = None) -> object:
    """dom-2, dom-3, dom-4, dom-5: conditions on contained resources, true when there are none."""
    if _resource(value) and _absent(value, "contained"):  # type: ignore[arg-type]
        return True
    return ASK_FHIRPATH


def _has_narrative_div(value: object, _resource_: dict, _session: object = None) -> object:
    """dom-6: text.div.exists()."""
    if not _resource(value) or "_text" in value:  # type: ignore[operator]
        return ASK_FHIRPATH
    text = value.get("text")  # type: ignore[union-attr]
    if text is None and "text" not in value:  # type: ignore[operator]
        return False
    if _element(text) and _plain_string(text, "div") and "div" in text:
        return True
    return ASK_FHIRPATH


_XHTML = "{http://www.w3.org/1999/xhtml}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# txt-1 as R4 states it in its XPath form (tests/test_fhir_narrative.py reads it from the shipped snapshots): HTML 4.0's
# basic formatting elements, <a>, <img>, tables, and these attributes on any of them (no event attribute, script,
# form, frame, object, head or body); xml:lang besides (the XML form of `lang`)
_ELEMENTS = frozenset({"a", "abbr", "acronym", "b", "big", "blockquote", "br", "caption", "cite", "code", "col",
                       "colgroup", "dd", "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
                       "img", "li", "ol", "p", "pre", "q", "samp", "small", "span", "strong", "sub", "sup", "table",
                       "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "ul", "var"})
_ATTRIBUTES = frozenset({"abbr", "accesskey", "align", "alt", "axis", "bgcolor", "border", "cellhalign", "cellpadding",
                         "cellspacing", "cellvalign", "char", "charoff", "charset", "cite", "class", "colspan",
                         "compact", "coords", "dir", "frame", "headers", "height", "href", "hreflang", "hspace", "id",
                         "lang", "longdesc", "name", "nowrap", "rel", "rev", "rowspan", "rules", "scope", "shape",
                         "span", "src", "start", "style", "summary", "tabindex", "title", "type", "valign", "value",
                         "vspace", "width", _XML_LANG})


_XML_SPACE = " \t\r\n"  # what XPath's normalize-space() (txt-2's expression) removes: a no-break space is content


@lru_cache(maxsize=64)  # a message's divs, each asked for txt-1 and txt-2 by a walk or two; not a log's (memory)
def narrative_rules(div: str) -> tuple[bool, bool]:
    """(txt-1, txt-2) of a narrative's div: XHTML, a `div` in the XHTML namespace of the allowed elements and
    attributes only (an event attribute, a script or any element or attribute not listed is none of them); some
    text that is not white space, or an image with a source. Parsed as medcom parses XML (xmlsafe: no DTD, no
    entity, no network); a div that is not well-formed XML breaks txt-1 (and txt-2 is not judged on it)."""
    try:
        root = xmlsafe.parse_bytes(div.encode("utf-8", "surrogatepass"), max_bytes=len(div) * 4 + 64).getroot()
    except (xmlsafe.UnsafeXMLError, ValueError):
        return False, True
    allowed = root.tag == _XHTML + "div"
    content = False
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or a processing instruction: no element, no content
        name = element.tag[len(_XHTML):] if element.tag.startswith(_XHTML) else None
        if name not in _ELEMENTS:
            allowed = False
        content = content or (name == "img" and "src" in element.attrib) \
            or bool(element.text and element.text.strip(_XML_SPACE))
        if not _ATTRIBUTES.issuperset(element.attrib):
            allowed = False
        for child in element:
            content = content or bool(child.tail and child.tail.strip(_XML_SPACE))
    return allowed, content


def _html_checks(which: int) -> Native:
    """txt-1 (which=0), txt-2 (which=1): htmlChecks() on Narrative.div, by `narrative_rules`."""
    def check(value: object, _resource_: dict, _session: object = None) -> object:
        return narrative_rules(value)[which] if isinstance(value, str) and value else ASK_FHIRPATH
    return check


_TXT_1, _TXT_2 = _html_checks(0), _html_checks(1)
HTML_CHECKS = frozenset({_TXT_1, _TXT_2})  # a function of the div alone (medcom_invariants.VALUE_ONLY)


def remembered(session: object, what: str, value: object, read: Callable[[object], Any]) -> Any:
    """`read(value)`, once per validation: a Bundle's entries are read by a score of Bundle-level invariants, and
    nothing changes the Bundle while it is judged. Kept in the validation's `shapes` by the object's identity,
    with the object (so that the identity is not another's later); read afresh without a validation."""
    shapes = getattr(session, "shapes", None)
    if shapes is None:
        return read(value)
    key = (what, id(value))
    found = shapes.get(key)
    if found is None:
        found = shapes[key] = (value, read(value))
    return found[1]


def _bundle(value: object, session: object = None) -> list[dict] | None:
    """The entries of a plain Bundle (a Bundle with a string `type` and entries that are objects read as
    elements); None for any other shape."""
    return remembered(session, "entries", value, _read_bundle)  # type: ignore[no-any-return]


def _read_bundle(value: object) -> list[dict] | None:
    if not _resource(value, "Bundle") or not _plain_string(value, "type") or "type" not in value \
            or "_entry" in value:  # type: ignore[operator]
        return None
    entries = value.get("entry")  # type: ignore[union-attr]
    if entries is None and "entry" not in value:  # type: ignore[operator]
        return []
    if isinstance(entries, list) and all(_element(e) for e in entries):
        return entries
    return None


def _plain_entry_resource(entry: dict) -> bool:
    """The entry's resource is absent or an object with a resource type."""
    resource = entry.get("resource")
    return (resource is None and "resource" not in entry) or _resource(resource)


def _no_total(value: object, _resource_: dict, _session: object = None) -> object:
    """bdl-1: total.empty() or (type = 'searchset') or (type = 'history')."""
    if _bundle(value, _session) is not None and _absent(value, "total"):  # type: ignore[arg-type]
        return True
    return ASK_FHIRPATH


def _no_search(value: object, _resource_: dict, _session: object = None) -> object:
    """bdl-2: entry.search.empty() or (type = 'searchset')."""
    entries = _bundle(value, _session)
    if entries is not None and all(_absent(e, "search") for e in entries):
        return True
    return ASK_FHIRPATH


def _entries_without(part: str, kinds: tuple[str, ...]) -> Native:
    """bdl-3 / bdl-4: entry.all(<part>.exists() = (%resource.type = one of `kinds`)), for the Bundle itself."""
    def check(value: object, resource: dict, _session: object = None) -> object:
        entries = _bundle(value, _session) if value is resource else None
        if entries is None or value["type"] in kinds or not all(_absent(e, part) for e in entries):  # type: ignore[index]
            return ASK_FHIRPATH
        return True
    return check


def _distinct_full_urls(value: object, _resource_: dict, _session: object = None) -> object:
    """bdl-7: (type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)
    .isDistinct()."""
    entries = _bundle(value, _session)
    if entries is None or value["type"] == "history":  # type: ignore[index]
        return ASK_FHIRPATH
    urls = []
    for entry in entries:
        if not _plain_string(entry, "fullUrl") or not _plain_entry_resource(entry):
            return ASK_FHIRPATH
        resource = entry.get("resource")
        if resource is not None and ("_meta" in resource or "meta" in resource and not (
                _element(resource["meta"]) and _absent(resource["meta"], "versionId"))):
            return ASK_FHIRPATH
        if "fullUrl" in entry:
            urls.append(entry["fullUrl"])
    return len(set(urls)) == len(urls)


def _first_entry_resource(entries: list[dict]) -> object:
    """entry.first().resource, when plain: the resource, None when there is none; ASK_FHIRPATH otherwise."""
    if not entries:
        return None
    first = entries[0]
    return first.get("resource") if _plain_entry_resource(first) else ASK_FHIRPATH


def _not_a_document(check_identifier: bool = False, check_timestamp: bool = False) -> Native:
    """bdl-9, bdl-10, bdl-11: type = 'document' implies ...: true when the Bundle is not a document (the
    right-hand side must be plain too: fhirpathpy evaluates it whatever the left)."""
    def check(value: object, _resource_: dict, _session: object = None) -> object:
        entries = _bundle(value, _session)
        if entries is None or value["type"] == "document":  # type: ignore[index]
            return ASK_FHIRPATH
        if check_identifier:
            identifier = value.get("identifier")  # type: ignore[union-attr]
            if "_identifier" in value or not (identifier is None and "identifier" not in value or (  # type: ignore[operator]
                    _element(identifier) and _plain_string(identifier, "system")
                    and _plain_string(identifier, "value"))):
                return ASK_FHIRPATH
        elif check_timestamp:
            if not _plain_string(value, "timestamp"):  # type: ignore[arg-type]
                return ASK_FHIRPATH
        elif _first_entry_resource(entries) is ASK_FHIRPATH:
            return ASK_FHIRPATH
        return True
    return check


def _message_starts_with_header(value: object, _resource_: dict, _session: object = None) -> object:
    """bdl-12: type = 'message' implies entry.first().resource.is(MessageHeader)."""
    entries = _bundle(value, _session)
    first = _first_entry_resource(entries) if entries is not None else ASK_FHIRPATH
    if first is ASK_FHIRPATH:
        return ASK_FHIRPATH
    if value["type"] != "message" or _resource(first, "MessageHeader"):  # type: ignore[index]
        return True
    return ASK_FHIRPATH


def _entry_has_content(value: object, _resource_: dict, _session: object = None) -> object:
    """bdl-5: resource.exists() or request.exists() or response.exists()."""
    if _element(value) and _resource(value.get("resource")) and _absent(value, "request") \
            and _absent(value, "response"):  # type: ignore[union-attr,arg-type]
        return True
    return ASK_FHIRPATH


def _full_url_without_history(value: object, _resource_: dict, _session: object = None) -> object:
    """bdl-8: fullUrl.contains('/_history/').not()."""
    if _element(value) and _plain_string(value, "fullUrl") and "fullUrl" in value:  # type: ignore[arg-type,operator]
        return "/_history/" not in value["fullUrl"]  # type: ignore[index]
    return ASK_FHIRPATH


def _extension_or_value(value: object, _resource_: dict, _session: object = None) -> object:
    """ext-1: extension.exists() != value.exists(), for an extension with either nested extensions (a list of
    objects) or one value (an object, a non-empty string, an integer or a boolean), and no `_value` twin."""
    if not _element(value):
        return ASK_FHIRPATH
    values = [k for k in value if k.startswith(("value", "_value"))]  # type: ignore[union-attr]
    nested = value.get("extension")  # type: ignore[union-attr]
    if "_extension" in value or len(values) > 1 or (values and values[0].startswith("_")):  # type: ignore[operator]
        return ASK_FHIRPATH
    if nested is None and "extension" not in value:  # type: ignore[operator]
        has_nested = False
    elif isinstance(nested, list) and nested and all(_element(e) and e for e in nested):
        has_nested = True
    else:
        return ASK_FHIRPATH
    if not values:
        return has_nested
    item = value[values[0]]  # type: ignore[index]
    if has_nested or values[0][5:] not in _EXTENSION_VALUE_TYPES or not _plain_value(item):
        return ASK_FHIRPATH
    return True


def _plain_value(item: object) -> bool:
    if isinstance(item, bool | int):
        return True
    if isinstance(item, str):
        return bool(item)
    return _element(item) and bool(item) and all(v is not None for v in item.values())  # type: ignore[union-attr]


def _identified_or_named(value: object, _resource_: dict, _session: object = None) -> object:
    """org-1: (identifier.count() + name.count()) > 0, true for an organisation with identifiers or a name."""
    if not _resource(value, "Organization") or not _plain_string(value, "name") or "_identifier" in value:  # type: ignore[arg-type,operator]
        return ASK_FHIRPATH
    identifiers = value.get("identifier")  # type: ignore[union-attr]
    if identifiers is not None and not (isinstance(identifiers, list) and all(_element(i) and i for i in identifiers)):
        return ASK_FHIRPATH
    if identifiers or "name" in value:  # type: ignore[operator]
        return True
    return ASK_FHIRPATH


# natives whose answer depends only on a value's shape (keys, JSON types, numbers and booleans, whether strings
# are empty, resourceType), never on the text of another string: a remembered walk need not record what they read
# (walks.py; tests/test_fhir_walks.py changes every other string and asks them again)
SHAPE_ONLY = frozenset({_no_contained, _has_narrative_div, _extension_or_value, _identified_or_named,
                        _no_total, _no_search, _entry_has_content})  # a Bundle's and each entry's: not asked on replay

_DOM_3 = ("contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | "
          "%resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = "
          "'#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = "
          "'#').exists()).not()).trace('unmatched', id).empty()")

NATIVE: dict[tuple[str, str], Native] = {
    ("dom-2", "contained.contained.empty()"): _no_contained,
    ("dom-3", _DOM_3): _no_contained,
    ("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"): _no_contained,
    ("dom-5", "contained.meta.security.empty()"): _no_contained,
    ("dom-6", "text.`div`.exists()"): _has_narrative_div,
    ("txt-1", "htmlChecks()"): _TXT_1,
    ("txt-2", "htmlChecks()"): _TXT_2,
    ("bdl-1", "total.empty() or (type = 'searchset') or (type = 'history')"): _no_total,
    ("bdl-2", "entry.search.empty() or (type = 'searchset')"): _no_search,
    ("bdl-3", "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
              "%resource.type = 'history'))"): _entries_without("request", ("batch", "transaction", "history")),
    ("bdl-4", "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
              "'transaction-response' or %resource.type = 'history'))"):
        _entries_without("response", ("batch-response", "transaction-response", "history")),
    ("bdl-5", "resource.exists() or request.exists() or response.exists()"): _entry_has_content,
    ("bdl-7", "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
              ".isDistinct()"): _distinct_full_urls,
    ("bdl-8", "fullUrl.contains('/_history/').not()"): _full_url_without_history,
    ("bdl-9", "type = 'document' implies (identifier.system.exists() and identifier.value.exists())"):
        _not_a_document(check_identifier=True),
    ("bdl-10", "type = 'document' implies (timestamp.hasValue())"): _not_a_document(check_timestamp=True),
    ("bdl-11", "type = 'document' implies entry.first().resource.is(Composition)"): _not_a_document(),
    ("bdl-12", "type = 'message' implies entry.first().resource.is(MessageHeader)"): _message_starts_with_header,
    ("ext-1", "extension.exists() != value.exists()"): _extension_or_value,
    ("org-1", "(identifier.count() + name.count()) > 0"): _identified_or_named,
}


def native(key: str, expression: str | None) -> Native | None:
    """The Python shortcut for invariant `key` with exactly this expression, if there is one."""
    return NATIVE.get((key, expression)) if expression else None
