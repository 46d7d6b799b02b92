"""The input stage of replay: from everything read to the events the engine runs, whatever format told them.

Applied in time order (ties in input order): receipts find the episode of what they answer; the same message
twice is a duplicate (M-DUP), the same id with other content a finding; a correction replaces, a cancellation
withdraws the previous message of its kind in the episode (the one it names, where it names one; M-ORDER when
it arrives first, M-REF when there is none); a cancelled admission cancels the episode. A side-car line of a
message kind adds what the real message carries only as free text (the decision of an acknowledgement, a reply
reference, a time to the second); a side-car fact refines the same fact stated by a message in the same minute
(OIOXML times are minutes); the same fact told twice counts once. An episode-of-care id that names two patients
(two CPR numbers) is two episodes.

The passes find related inputs only through `Key`s (an episode-of-care id, a patient, a message id, an envelope
id), and `relations_of` declares each input's keys with the same constructors: whatever a pass relates shares
a key, so a replay of part of a log (medcom.replay.partition) that holds every input sharing a key sees what
the whole log's replay sees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NewType

from medcom.engine.engine import Violation
from medcom.events import HOSPITAL_MESSAGES, TIME_KEYS, Event
from medcom.events.from_messages import CANCELLED, CORRECTED, MessageEvents, episode_id_for_name, episode_key
from medcom.findings import SEVERITY_OF, Finding
from medcom.identifiers import patient_key
from medcom.policy import MessagesPolicy, Policy
from medcom.quoting import shortened
from medcom.replay.load import ReplayInput, Unit, message_unit

SAME_MINUTE = timedelta(minutes=1)
REFERENCES = ("reply_to", "ref", "correction_of")  # the fields of an event that name another message

# --- keys: how the passes below find related inputs, and how relations_of declares them (one vocabulary) ---------
Key = NewType("Key", str)


def by_episode(name: str | None) -> Key:
    """An episode by its name or id (timelines and side-cars name it, messages carry ids; `_name_episodes`)."""
    return Key(f"E:{name or ''}")


def by_patient(cpr: object) -> Key | None:
    """A patient by CPR number, normalised as every comparison of patients is (`identifiers.patient_key`); None:
    no patient named."""
    key = patient_key(cpr)
    return Key(f"C:{key}") if key else None


def by_message(ident: object) -> Key:
    """A message by its id (or a reference naming one)."""
    return Key(f"M:{ident or ''}")


def by_envelope(ident: object) -> Key:
    """An envelope (OIOXML envelope, FHIR Bundle) by its id (or a receipt's reference naming one)."""
    return Key(f"V:{ident or ''}")


# Where the whole log's replay makes an input finding: (pass, when its message was sent, 0 for a message's event
# or 1 for a timeline's fact, its input sequence number, the event's place in its message). Input findings come
# pass by pass, each pass in arrival order; so a partition's are in this order, and the partitions' merged by it
# are in the whole log's (a finding of no episode may come from any partition: medcom.replay.grouping).
Order = tuple[int, datetime, int, int, int]
_PATIENTS, _ENVELOPES, _DUPLICATES, _DETAILS, _CORRECTIONS, _REFERENCES = range(6)


@dataclass
class Prepared:
    """What the engine runs, and what the report says about the inputs."""

    events: list[Event]
    notes: dict[str, list[Violation]] = field(default_factory=dict)  # per episode: M-DUP, M-ORDER, M-REF ...
    cancelled: set[str] = field(default_factory=set)  # episodes whose admission was cancelled
    findings: list[Finding] = field(default_factory=list)  # of messages that belong to no episode (input findings)
    unassigned: list[Event] = field(default_factory=list)  # their events: not replayed, but the log holds them
    finding_order: list[Order] = field(default_factory=list)  # each input finding's `Order`


class _Notes:
    def __init__(self) -> None:
        self.by_episode: dict[str, list[Violation]] = defaultdict(list)
        self.findings: list[Finding] = []
        self.order: list[Order] = []

    def add(self, episode: str, rule: str, severity: str, text: str, at: datetime | None, ids: list[str],
            source: str = "", *, order: Order) -> None:
        """A note of an episode; of a message that belongs to none (episode ''), an input finding, made at
        `order` of the whole log's replay."""
        if episode:
            self.by_episode[episode].append(Violation(rule, SEVERITY_OF[severity], None, at, ids, text))
        else:
            self.findings.append(Finding(rule, SEVERITY_OF[severity], text, source))
            self.order.append(order)


def _order(step: int, unit: Unit, index: int = 0) -> Order:
    return step, _sent(unit), 0, unit.seq, index


def _utc(event: Event) -> None:
    event.at = event.at.astimezone(UTC)
    for key in TIME_KEYS:
        value = event.data.get(key)
        if isinstance(value, datetime):
            event.data[key] = value.astimezone(UTC)


def _fingerprint(unit: Unit) -> tuple:
    """What a message says, whatever envelope and sending time carried it (a resend changes only those)."""
    return tuple((e.kind, None if e.is_message else e.at, e.episode,
                  tuple(sorted((k, repr(v)) for k, v in e.data.items()))) for e in unit.events.events)


class _Fingerprint:
    """A unit's `_fingerprint`, worked out only when it is compared (most message ids come once)."""

    __slots__ = ("unit", "_value")

    def __init__(self, unit: Unit) -> None:
        self.unit, self._value = unit, None

    @property
    def value(self) -> tuple:
        if self._value is None:
            self._value = _fingerprint(self.unit)
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Fingerprint) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


def prepare(inp: ReplayInput, policy: Policy) -> Prepared:
    """Apply the input rules; the result's events are in UTC, ready for the engine."""
    notes = _Notes()
    for unit in inp.units:
        for event in unit.events.events:
            _utc(event)
    for event in (*inp.facts, *inp.sidecar_messages):
        _utc(event)
    units = sorted(inp.units, key=lambda u: (_sent(u), u.seq))  # arrival order: when each message was sent
    _name_episodes(units, inp)
    _separate_patients(units, notes)  # after naming: an alias (an LPR3 id) may join a message to another's episode
    _resolve_orphans(units)
    _sides(units)
    _resolve_receipts(units, notes)
    _envelopes(units, notes)
    kept = _duplicates(units, inp, notes, policy)
    sidecar_units = _apply_details(kept, inp, notes)
    kept = sorted([*kept, *sidecar_units], key=lambda u: (_sent(u), u.seq))
    places = {id(e): (_REFERENCES, sent, 0, u.seq, i) for u in kept for sent in (_sent(u),)
              for i, e in enumerate(u.events.events)}
    known = {by_message(primary.id) for u in kept if (primary := u.primary) is not None and primary.id}
    kept, cancelled = _corrections(kept, notes)
    events = [e for u in kept for e in u.events.events]
    events = _merge_facts(events, inp.facts)
    _references(events, known, notes, places)
    unassigned = [e for e in events if not e.episode]
    if unassigned:
        events = [e for e in events if e.episode]
    return Prepared(events, dict(notes.by_episode), cancelled, notes.findings, unassigned, notes.order)


_END = datetime.max.replace(tzinfo=UTC)


def _first(unit: Unit) -> datetime:
    return min((e.at for e in unit.events.events), default=_END)


def _sent(unit: Unit) -> datetime:
    primary = unit.primary
    return primary.at if primary is not None else _first(unit)


def _separate_patients(units: list[Unit], notes: _Notes) -> None:
    """One episode per (episode id, CPR): a second patient under the same id gets its own episode."""
    owner: dict[Key, Key] = {}  # episode -> its first patient
    renamed: dict[tuple[Key, Key], str] = {}
    others: dict[Key, int] = defaultdict(int)  # episode -> its other patients so far
    for unit in units:
        me = unit.events
        who = by_patient(me.cpr)
        if not me.episode or who is None:
            continue
        episode = by_episode(me.episode)
        if owner.setdefault(episode, who) == who:
            continue
        key = (episode, who)
        if key not in renamed:
            others[episode] += 1
            renamed[key] = f"{me.episode}~{others[episode] + 1}"
            notes.add(renamed[key], "M-PATIENT", "warning", f"episode-of-care id {me.episode} also names another "
                      "patient: replayed as an episode of its own", _first(unit), [],
                      order=_order(_PATIENTS, unit))
        me.episode = renamed[key]
        for event in me.events:
            event.episode = renamed[key]


def _name_episodes(units: list[Unit], inp: ReplayInput) -> None:
    """Timeline and side-car lines name episodes; messages carry episode-of-care ids, a FHIR message the LPR3 id
    beside the local one (`MessageEvents.aliases`). A name stands for the id it equals (case and hyphens ignored),
    the id `medcom build` derives from it, and the local id of messages that carry either as their LPR3 id; a
    message's episode is the name that stands for its id or its LPR3 id. Two names standing for the id of one
    message's episode name one episode: the first line's name, the other's lines are renamed to it (names that
    only look alike, "A" and "a" in a timeline without messages, stay apart as written)."""
    local = {by_episode(other): unit.events.episode for unit in units for other in unit.events.aliases
             if unit.events.episode}  # an LPR3 id -> the local id the messages carrying both use
    carried = {by_episode(e) for u in units if u.origin != "timeline" for e in (u.events.episode, *u.events.aliases)
               if e}
    lines = [*inp.facts, *inp.sidecar_messages, *(e for u in units if u.origin == "timeline" for e in u.events.events)]
    owner: dict[Key, str] = {}  # an id -> the name standing for it
    canonical: dict[str, str] = {}
    for name in dict.fromkeys(e.episode for e in lines if e.episode):  # in the lines' order: deterministic
        ids = [by_episode(other) for other in episode_aliases(name)]
        ids += [by_episode(local[i]) for i in ids if i in local]
        first = canonical[name] = next((owner[i] for i in ids if i in owner and i in carried), name)
        for i in ids:
            owner.setdefault(i, first)
    for event in lines:
        if event.episode:
            event.episode = canonical[event.episode]
    for unit in units:
        if unit.origin == "timeline":
            unit.events.episode = canonical.get(unit.events.episode or "", unit.events.episode)
            continue
        for event in unit.events.events:
            event.episode = _named(event.episode, owner, local)
        if unit.events.episode:
            unit.events.episode = _named(unit.events.episode, owner, local)


def _named(episode: str, owner: dict[Key, str], local: dict[Key, str]) -> str:
    """A message's episode id as `_name_episodes` names it: the name standing for it, else its local id."""
    key = by_episode(episode)
    if key in owner:
        return owner[key]
    joined = local.get(key, episode)
    return owner.get(by_episode(joined), joined)


def _resolve_orphans(units: list[Unit]) -> None:
    """A message that names no episode (a CareCommunication may carry none) belongs to the episode of the message
    it replies to, else to its patient's latest episode admitted before it."""
    episode_of = {by_message(e.id): e.episode for u in units for e in u.events.events
                  if e.is_message and e.id and e.episode}
    starts: dict[Key, list[tuple[datetime, str]]] = defaultdict(list)
    for unit in units:
        if (who := by_patient(unit.events.cpr)) and unit.events.episode:
            starts[who].append((_first(unit), unit.events.episode))
    for unit in units:
        orphans = [e for e in unit.events.events if not e.episode and e.kind != "receipt_sent"]
        if not orphans:
            continue
        target = orphans[0].data.get("reply_to")
        episode = episode_of.get(by_message(target)) if target else None
        if episode is None and (who := by_patient(unit.events.cpr)):
            earlier = sorted(s for s in starts[who] if s[0] <= _sent(unit))
            episode = earlier[-1][1] if earlier else None
        if episode is None and target:
            continue  # a reply to a message not in the log, of no episode: its M-REF is an input finding
        episode = episode or f"(no episode) {orphans[0].id or ''}".strip()
        unit.events.episode = episode
        for event in orphans:
            event.episode = episode


def _sides(units: list[Unit]) -> None:
    """Correspondence whose sender the message does not say (MedCom's FHIR Organizations carry GLN and SOR, no
    municipality code) is placed by the log itself: the receiver of its episode's notifications and care plan is
    the municipality, their sender the hospital (the episode's parties only: a partitioned replay sees no more);
    else it comes from the other side than the message it replies to."""
    municipality: dict[Key, set[str]] = defaultdict(set)  # episode -> identifiers (GLN, SOR)
    hospital: dict[Key, set[str]] = defaultdict(set)
    for unit in units:
        primary = unit.primary
        if primary is not None and primary.kind in HOSPITAL_MESSAGES and unit.events.episode:
            municipality[by_episode(unit.events.episode)].update(unit.events.receiver)
            hospital[by_episode(unit.events.episode)].update(unit.events.sender)
    by_id = {by_message(e.id): e for u in units for e in u.events.events if e.is_message and e.id}
    for unit in units:
        for event in unit.events.events:
            if event.kind != "correspondence_sent" or event.data.get("sender"):
                continue
            episode = by_episode(event.episode)
            side = _side_of(unit.events, municipality[episode], hospital[episode])
            if side is None:
                target = by_id.get(by_message(event.data.get("reply_to")))
                if target is not None and (target.from_hospital or target.from_municipality):
                    side = "municipality" if target.from_hospital else "hospital"
            if side is not None:
                event.data["sender"] = side


def _side_of(me: MessageEvents, municipality: set[str], hospital: set[str]) -> str | None:
    """'municipality' or 'hospital' when the message's sender or receiver is a known party of one side only."""
    sender, receiver = set(me.sender), set(me.receiver)
    says_municipality = bool(sender & municipality) or bool(receiver & hospital)
    says_hospital = bool(sender & hospital) or bool(receiver & municipality)
    if says_municipality != says_hospital:
        return "municipality" if says_municipality else "hospital"
    return None


def _document(unit: Unit, primary: Event) -> str:
    """The input document that carried the message: letters of one Emessage share it (read from the message, not
    from its source's wording: a file may be named 'x letter 2.xml')."""
    return unit.events.document or primary.source


def _envelopes(units: list[Unit], notes: _Notes) -> None:
    """M-ENVELOPE: an envelope id (OIOXML envelope, FHIR Bundle.id, a VANS envelope's or an SBDH's InstanceIdentifier
    around either) is never reused for another message, receipts (XCTL, Acknowledgement) included; the messages of
    one envelope document share it, and a message sent again (a resend, a duplicate) may come in it again."""
    seen: dict[Key, tuple[str, set[str]]] = {}
    for unit in units:
        primary = unit.primary
        if primary is None:
            continue
        ident = primary.envelope_id
        envelopes = [(by_envelope(ident), f"envelope {ident}", _document(unit, primary))] if ident else []
        envelopes += [(by_envelope(label), label, here) for label, here in unit.events.wrappers]  # as relations_of
        for key, envelope, here in envelopes:
            document, ids = seen.setdefault(key, (here, set()))
            if document == here or not ids:
                ids.add(primary.id or "")
            elif (primary.id or "") not in ids:
                notes.add(primary.episode, "M-ENVELOPE", "error", f"{shortened(envelope)} was used before for "
                          f"{', '.join(sorted(ids))}: an envelope id is never reused for another message", primary.at,
                          [primary.id] if primary.id else [], here, order=_order(_ENVELOPES, unit))


def _resolve_receipts(units: list[Unit], notes: _Notes) -> None:
    """A receipt belongs to the episode of the letter it answers; one that names only the envelope answers
    every letter of it."""
    episode_of: dict[Key, str] = {}
    letters_of: dict[Key, list[str]] = defaultdict(list)
    for unit in units:
        for event in unit.events.events:
            if event.is_message and event.kind != "receipt_sent" and event.id:
                episode_of.setdefault(by_message(event.id), event.episode)
                if event.envelope_id:
                    letters_of[by_envelope(event.envelope_id)].append(event.id)
    for unit in units:
        receipts = [e for e in unit.events.events if e.kind == "receipt_sent"]
        expanded = []
        for event in receipts:
            ref = event.data.get("ref") or ""
            if by_message(ref) not in episode_of and by_envelope(ref) in letters_of:
                for letter in letters_of[by_envelope(ref)]:
                    copy = Event(event.at, event.episode, event.kind, {**event.data, "ref": letter,
                                                                       "id": f"{event.id}:{letter}"},
                                 event.seq, event.source, event.line, origin=event.origin)
                    expanded.append(copy)
            else:
                expanded.append(event)
        for event in expanded:  # a receipt of a message not in the log belongs to no episode (an input finding)
            event.episode = episode_of.get(by_message(event.data.get("ref")), event.episode or "")
        if receipts:
            others = [e for e in unit.events.events if e.kind != "receipt_sent"]
            unit.events.events = others + expanded


def _duplicates(units: list[Unit], inp: ReplayInput, notes: _Notes, policy: Policy) -> list[Unit]:
    """M-DUP: a message arriving again (same id, same content) is counted once and not evaluated again; an id
    reused with other content is a finding and both are evaluated. M-RESEND: a copy in a new envelope is a
    resend, due only after the receipt timeout without a receipt, at most `max_resends` times (MedCom's reliable
    messaging)."""
    acknowledged: dict[Key, list[datetime]] = defaultdict(list)
    for unit in units:
        for event in unit.events.events:
            if event.kind == "receipt_sent" and event.data.get("ref"):
                acknowledged[by_message(event.data["ref"])].append(event.at)
    rules = policy.messages
    seen: dict[tuple[str, Key], tuple[_Fingerprint, list[Event]]] = {}
    kept = []
    for unit in units:
        primary = unit.primary
        if primary is None or not primary.id or primary.kind == "receipt_sent":
            kept.append(unit)
            continue
        key = (primary.kind, by_message(primary.id))
        fingerprint = _Fingerprint(unit)
        if key in seen and seen[key][0] == fingerprint:
            copies = seen[key][1]
            inp.duplicates += 1
            if primary.envelope_id and primary.envelope_id not in {c.envelope_id for c in copies}:
                _check_resend(primary, copies, acknowledged.get(by_message(primary.id), []), rules, notes,
                              _order(_DUPLICATES, unit))
            else:
                notes.add(primary.episode, "M-DUP", "info", f"message {primary.id} arrived again; not evaluated "
                          "again (it gets the same receipt as the first)", primary.at, [primary.id],
                          order=_order(_DUPLICATES, unit))
            copies.append(primary)
            continue
        if key in seen:
            notes.add(primary.episode, "M-DUP", "warning", f"message id {primary.id} was used again for a message "
                      "with other content; both are evaluated", primary.at, [primary.id],
                      order=_order(_DUPLICATES, unit))
        else:
            seen[key] = (fingerprint, [primary])
        kept.append(unit)
    return kept


def _check_resend(resend: Event, copies: list[Event], acks: list[datetime], rules: MessagesPolicy,
                  notes: _Notes, order: Order) -> None:
    previous = copies[-1]
    ident = resend.id or ""
    resends = sum(1 for c in copies[1:] if c.envelope_id != copies[0].envelope_id) + 1
    notes.add(resend.episode, "M-DUP", "info", f"message {ident} resent in envelope {resend.envelope_id} (resend "
              f"{resends}); not evaluated again", resend.at, [ident], order=order)
    if any(previous.at <= at < resend.at for at in acks):  # one at the resend's instant may be the copy's own
        notes.add(resend.episode, "M-RESEND", "warning", f"message {ident} was resent although its receipt had "
                  "come", resend.at, [ident], order=order)
    elif resend.at - previous.at < rules.receipt_timeout:
        notes.add(resend.episode, "M-RESEND", "warning", f"message {ident} was resent "
                  f"{int((resend.at - previous.at).total_seconds() // 60)} min after the previous copy: a resend "
                  f"waits {rules.receipt_timeout} without a receipt", resend.at, [ident], order=order)
    if resends > rules.max_resends:
        notes.add(resend.episode, "M-RESEND", "warning", f"message {ident} was resent {resends} times; at most "
                  f"{rules.max_resends}", resend.at, [ident], order=order)


def _apply_details(units: list[Unit], inp: ReplayInput, notes: _Notes) -> list[Unit]:
    """Side-car lines of a message kind: details of the log message with that id (in its episode), or, when no
    message has the id, a message the side-car tells."""
    by_id: dict[Key, Unit] = {}
    for unit in units:
        primary = unit.primary
        if primary is not None and primary.id and primary.kind != "receipt_sent":
            by_id.setdefault(by_message(primary.id), unit)
    extra = []
    for line in inp.sidecar_messages:
        unit = by_id.get(by_message(line.id)) if line.id else None
        target = unit.primary if unit is not None else None
        if unit is None or target is None or target.episode != line.episode:
            extra.append(message_unit(line, line.seq, "side-car"))
            continue
        if line.data.get("correction_of"):  # what a 34C letter (no StatusCode) cannot say
            unit.events.status, unit.events.replaces = CORRECTED, str(line.data["correction_of"])
        if abs(target.at - line.at) >= SAME_MINUTE:
            notes.add(target.episode, "M-REF", "info", f"the side-car moves message {target.id} from "
                      f"{target.at.isoformat()} to {line.at.isoformat()}", line.at, [target.id or ""],
                      order=(_DETAILS, _END, 1, line.seq, 0))
        target.at = line.at
        target.kind = line.kind
        target.data.update(line.data)
    return extra


def _corrections(units: list[Unit], notes: _Notes) -> tuple[list[Unit], set[str]]:
    """Corrections replace and cancellations withdraw the previous message of their kind in the episode (M-ORDER
    when one comes before its original). M-STATUS is not reported: a real letter has no place to name the letter
    it changes (docs/RULES.md), so one that names none changes the previous of its kind, or is M-REF."""
    current: dict[tuple[Key, str], Unit] = {}  # (episode, kind) -> the current message of that kind
    by_id: dict[Key, Unit] = {}
    held: dict[Key, tuple[str, Unit]] = {}  # corrections/cancellations naming a message that has not arrived yet
    withdrawn: set[int] = set()  # units left out entirely (cancelled)
    cancelled: set[str] = set()
    out = []

    def withdraw(target: Unit, by: Unit) -> None:
        """A cancellation withdraws the message and its facts; a correction replaces the facts the original
        stated (its sending stays on record: a care plan was sent then)."""
        if by.events.status == CANCELLED:
            withdrawn.add(id(target))
            if target.events.kind == "admission_advice_sent":
                cancelled.add(by.events.episode or "")
            return
        target.events.events = [e for e in target.events.events if e.is_message]
        if by.primary is not None and target.primary is not None and target.primary.id:
            by.primary.data.setdefault("correction_of", target.primary.id)

    for unit in units:
        me, primary = unit.events, unit.primary
        if primary is not None and primary.id and by_message(primary.id) in held:
            _, change = held.pop(by_message(primary.id))
            notes.add(primary.episode, "M-ORDER", "info", f"{change.events.status} message arrived before its "
                      f"original {primary.id}; applied when the original arrived", primary.at, [primary.id],
                      order=_order(_CORRECTIONS, unit))
            out.append(unit)
            withdraw(unit, change)
            continue
        if me.status in (CORRECTED, CANCELLED) and me.kind and me.episode:
            target = by_id.get(by_message(me.replaces)) if me.replaces else current.get((by_episode(me.episode),
                                                                                        me.kind))
            if target is None and me.replaces:
                held[by_message(me.replaces)] = (me.replaces, unit)
            elif target is None:
                at = primary.at if primary else None
                notes.add(me.episode, "M-REF", "warning", f"a {me.status} {me.kind} with no earlier message of its "
                          "kind in the episode to change", at, [primary.id] if primary and primary.id else [],
                          order=_order(_CORRECTIONS, unit))
            else:
                withdraw(target, unit)
        if me.status == CANCELLED:
            continue  # a cancellation is not evaluated itself
        if primary is not None and primary.id:
            by_id.setdefault(by_message(primary.id), unit)
        if me.kind and me.episode:
            current[(by_episode(me.episode), me.kind)] = unit
            if me.kind == "admission_advice_sent":
                cancelled.discard(me.episode)
        out.append(unit)
    for ident, change in held.values():
        primary = change.primary
        notes.add(change.events.episode or "", "M-REF", "warning", f"{change.events.status} message refers to "
                  f"{ident}, which is not in the log", primary.at if primary else None, [ident],
                  order=(_CORRECTIONS, _END, 1, change.seq, 0))
    return [u for u in out if id(u) not in withdrawn], cancelled


def _same_fact(a: datetime, b: datetime) -> bool:
    """Two statements of one fact: the same instant, or the same minute where one is written to the minute
    (OIOXML's older generations carry hh:mm, 34C and timelines seconds)."""
    if a == b:
        return True
    return abs(a - b) < SAME_MINUTE and (a.second == 0 or b.second == 0) and a.replace(second=0) == b.replace(second=0)


def _merge_facts(events: list[Event], facts: list[Event]) -> list[Event]:
    """Timeline and side-car facts join the messages' facts: a side-car fact refines the same fact a message
    states in the same minute; the same fact told twice (also at two precisions) counts once."""
    stated: dict[tuple[Key, str], list[Event]] = defaultdict(list)
    out = []
    for event in events:
        if not event.is_message:
            key = (by_episode(event.episode), event.kind)
            twin = next((e for e in stated[key] if _same_fact(e.at, event.at)), None)
            if twin is not None:
                if event.at.second and not twin.at.second:
                    twin.at = event.at
                for k, v in event.data.items():
                    twin.data.setdefault(k, v)
                continue
            stated[key].append(event)
        out.append(event)
    for fact in facts:
        candidates = stated[(by_episode(fact.episode), fact.kind)]
        twin = next((e for e in candidates if (fact.origin == "side-car" and abs(e.at - fact.at) < SAME_MINUTE)
                     or e.at == fact.at), None)
        if twin is not None:
            twin.at = fact.at
            twin.data.update(fact.data)
            continue
        candidates.append(fact)
        out.append(fact)
    return out


def _references(events: list[Event], ids: set[Key], notes: _Notes, places: dict[int, Order]) -> None:
    """M-REF: a reply, receipt or correction naming a message that is not in the log. `places`: the `Order` of
    each message's events (the facts of timelines follow them: `_merge_facts`)."""
    for event in events:
        order = places.get(id(event)) or (_REFERENCES, _END, 1, event.seq, 0)
        for key in REFERENCES:
            target = event.data.get(key)
            if target and by_message(target) not in ids:
                notes.add(event.episode, "M-REF", "warning", f"{event.kind} refers ({key}) to {target}, which is not "
                          "in the log", event.at, [event.id] if event.id else [], event.source, order=order)


# --- relations: what the passes above tie together -----------------------------------------------------------------
# Two inputs that share a key of `relations_of` may meet in a pass above (or in a rule that reads a patient's other
# episodes), so a replay of part of a log must hold both: medcom.replay.partition replays together whatever
# shares a key. The passes look related inputs up only by the `by_*` keys at the top of this module, and
# relations_of declares an input's keys with the same functions: a pass that relates inputs by a new field adds a
# `by_*` key and declares it here (the property test of partitioned == whole replays fails until it does).
# A receipt of a message that is not in the log needs no other input: it belongs to no episode, and its findings are
# input findings, put in the whole log's order by their `Order` wherever they were made.


def episode_aliases(name: str) -> tuple[str, str]:
    """What a timeline or side-car episode name stands for (`_name_episodes`): the episode-of-care id it equals
    (case and hyphens ignored), and the id `medcom build` derives from it."""
    return episode_key(name) or name, episode_id_for_name(name)


@dataclass
class Relations:
    """The keys of one input: "E:" episode names and ids (and their aliases), "C:" its patient, "M:" message
    ids and "V:" envelope ids it is or names; each once, in the order first named."""

    keys: dict[Key, None] = field(default_factory=dict)

    def add(self, key: Key | None) -> None:
        if key is not None:
            self.keys[key] = None

    def reference(self, ref: object) -> None:
        """A message or envelope it names (a receipt's ref may be either: `_resolve_receipts`)."""
        if ref:
            self.add(by_message(ref))
            self.add(by_envelope(ref))


def relations_of(events: Iterable[Event], message: MessageEvents | None = None) -> Relations:
    """How a message (its events) or a timeline line (one event) is tied to others by the passes of `prepare`:
    episodes by name and alias (`_name_episodes`, the engine's episodes), the patient (`_separate_patients`,
    `_resolve_orphans`, a rule reading the patient's other episodes), its own message and envelope ids
    (`_duplicates`, `_envelopes`, `_apply_details`, `_corrections`), and the messages it names (`REFERENCES`, a
    receipt's `ref` (one receipt event per letter or envelope it answers), `replaces`: `_resolve_orphans`,
    `_resolve_receipts`, `_corrections`, `_references`). tests/test_partition_keys.py holds a log per key that
    only that key ties together."""
    out = Relations()
    names: set[str] = set()
    if message is not None:
        if message.episode:
            names.add(message.episode)
        names.update(a for a in message.aliases if a)
        out.add(by_patient(message.cpr))
        out.reference(message.replaces)
        for envelope, _document in message.wrappers:
            out.add(by_envelope(envelope))
    for event in events:
        if event.episode:
            names.add(event.episode)
        data = event.data
        out.add(by_patient(data.get("cpr")))
        ident = data.get("id")
        if event.is_message and ident:
            out.add(by_message(ident))
        if event.envelope_id:
            out.add(by_envelope(event.envelope_id))
        for key in REFERENCES:
            out.reference(data.get(key))
    for name in names:
        out.add(by_episode(name))
        for other in episode_aliases(name):
            out.add(by_episode(other))
    return out
