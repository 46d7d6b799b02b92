"""The rules of RULES.md, one class each, keyed by rule id; replay and simulation run the same instances.

Every clock time and duration comes from the policy; every day boundary from the business calendar.
How ambiguous passages of RULES.md are read is said in the docstring of the rule concerned.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from medcom.calendar import BusinessCalendar, add_elapsed, at_local, elapsed, end_of_day, local_date, to_local
from medcom.engine.completion_tax import TaxFacts, count_tax, responsibility_window
from medcom.engine.engine import Context, Rule
from medcom.events import MESSAGE_EVENTS, Event
from medcom.policy import Policy


def hm(at: datetime) -> str:
    """An instant as people read it in a report: weekday, local date and minute."""
    return f"{to_local(at):%a %Y-%m-%d %H:%M}"


def is_original_care_plan(e: Event) -> bool:
    """A care plan that is neither a correction nor a revision after a conference (CP-3)."""
    return e.kind == "care_plan_sent" and not e.data.get("correction_of") and not e.data.get("revised_after_conference")


def original_care_plans(events: list[Event]) -> list[Event]:
    return [e for e in events if is_original_care_plan(e)]


def _refers_to(event: Event, target: Event) -> bool:
    return target.id is not None and target.id in (event.data.get("ref"), event.data.get("reply_to"))


def _ready(ctx: Context) -> Event | None:
    return ctx.episode.last("ready_for_discharge")


def _discharged(ctx: Context) -> Event | None:
    return ctx.episode.first("discharged")


class AdmissionAdvice(Rule):
    """ADM-1: the advice is sent at or after the admission and before any other message of the episode."""

    id = "ADM-1"
    kinds = frozenset({"admission_advice_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "admission_advice_sent":
            return
        earlier = [e for e in ctx.episode.events if e.is_message and e is not event and e.kind != "receipt_sent"]
        if earlier:
            ctx.violation(self.id, "error", f"the admission advice is not the episode's first message: "
                          f"{earlier[0].kind} came first", due=earlier[0].at, actual=event.at, events=[event])

    def on_close(self, ctx: Context) -> None:
        admitted = ctx.episode.first("admitted")
        advice = ctx.episode.first("admission_advice_sent")
        if admitted and not advice:
            ctx.violation(self.id, "error", "no admission advice for this admission")
        elif admitted and advice and advice.at < admitted.at:
            # Checked at close: an advice sent before the admission arrives before the admission event.
            ctx.violation(self.id, "error", f"admission advice sent {hm(advice.at)}, before the admission",
                          due=admitted.at, actual=advice.at, events=[advice])


class AdmissionReport(Rule):
    """ADM-2: the municipality's automatic admission report answers the advice within 60 minutes."""

    id = "ADM-2"
    kinds = frozenset({"admission_advice_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "admission_advice_sent":
            return
        ctx.expect(self.id, "info", add_elapsed(event.at, ctx.policy.admission.report_within),
                   lambda e: True, "admission report expected after the advice", kinds=("admission_report_sent",),
                   about=[event], on_missing=lambda: self._missing(ctx, event))

    def _missing(self, ctx: Context, advice: Event) -> None:
        report = ctx.episode.first("admission_report_sent")
        if report is None or report.at > advice.at + ctx.policy.admission.report_within:
            ctx.obligation(self.id, "no admission report within the expected time: if the patient will need "
                           "municipal help, the hospital must send a care plan (it creates the citizen in the "
                           "municipal system)", due=add_elapsed(advice.at, ctx.policy.admission.report_within))


def care_plan_due(calendar: BusinessCalendar, policy: Policy, ready_at: datetime) -> datetime:
    """CP-1's deadline: the cutoff on the last weekday before the ready day (the simulated hospital aims at it)."""
    return calendar.last_weekday_before_at(local_date(ready_at), policy.care_plan.cutoff)


class CarePlanDeadline(Rule):
    """CP-1: the first care plan at the latest at the cutoff on the last weekday before the ready day.

    Read: the ready day is the local date of the (last known) ready time; a ready time revealed only by a
    later message is checked against the times recorded, so the outcome is the same.
    """

    id = "CP-1"
    kinds = frozenset({"ready_for_discharge"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "ready_for_discharge" or len(ctx.episode.of("ready_for_discharge")) > 1:
            return
        due = care_plan_due(ctx.calendar, ctx.policy, event.at)
        ctx.expect(self.id, "warning", due, is_original_care_plan,
                   f"first care plan due {hm(due)} (last weekday before the ready day {local_date(event.at)})",
                   kinds=("care_plan_sent",), late="came after the deadline: CP-2 applies")


def cp1_missed(ctx: Context) -> bool:
    return any(v.rule == "CP-1" for v in ctx.episode.violations)


class PhoneWhenLate(Rule):
    """CP-2: when CP-1 is missed, the hospital phones the municipality before the discharge.

    Checked where the log holds phone calls at all; otherwise reported as an open obligation.
    """

    id = "CP-2"

    def on_close(self, ctx: Context) -> None:
        discharged = _discharged(ctx)
        if not cp1_missed(ctx):
            return
        if not ctx.log_has_phone_calls:
            ctx.obligation(self.id, "care plan was late (CP-1): a phone call from the hospital to the municipality "
                           "before the discharge is required; the log holds no phone calls to check it",
                           due=discharged.at if discharged else None)
            return
        calls = [e for e in ctx.episode.of("phone_call") if e.from_hospital
                 and (discharged is None or e.at <= discharged.at)]
        if not calls:
            ctx.violation(self.id, "warning", "care plan was late (CP-1) and the hospital did not phone the "
                          "municipality before the discharge", due=discharged.at if discharged else None)


class OneCarePlan(Rule):
    """CP-3: a second original care plan only when the first names a special-coordination reason."""

    id = "CP-3"
    kinds = frozenset({"care_plan_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if not is_original_care_plan(event):
            return
        originals = original_care_plans(ctx.episode.of("care_plan_sent"))
        if len(originals) > 1 and not originals[0].data.get("special_coordination"):
            ctx.violation(self.id, "warning", "a second care plan for the admission, but the first names no "
                          "special-coordination reason", actual=event.at, events=[originals[0], event])


class SameDayAcknowledgement(Rule):
    """ACK-1: a care plan received on a weekday before the cutoff is acknowledged the same day.

    Received at or after the cutoff, or on a non-weekday: a phone contact with verbal acknowledgement is
    expected instead (an obligation; an electronic acknowledgement is still welcome).
    """

    id = "ACK-1"
    kinds = frozenset({"care_plan_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "care_plan_sent" or event.data.get("correction_of"):
            return
        cutoff = ctx.policy.acknowledgement.cutoff
        if ctx.calendar.weekday_before_clock(event.at, cutoff):
            ctx.episode.results["acks_due_same_day"] = int(ctx.episode.results.get("acks_due_same_day", 0)) + 1
            due = end_of_day(local_date(event.at))
            ctx.expect(self.id, "warning", due, lambda e: e.from_municipality and _refers_to(e, event),
                       f"care plan of {hm(event.at)} not acknowledged the same day",
                       kinds=("care_plan_ack_sent", "correspondence_sent"), about=[event])

    def on_close(self, ctx: Context) -> None:
        # Received at or after the cutoff or on a non-weekday: the hospital supplements the care plan with a phone
        # contact in which the municipality acknowledges it verbally (§4B.5). Read as: a phone call between them
        # on or after the plan's local day, before the episode ends; an electronic acknowledgement is welcome
        # but does not replace the call.
        cutoff = ctx.policy.acknowledgement.cutoff
        for plan in original_care_plans(ctx.episode.of("care_plan_sent")):
            if ctx.calendar.weekday_before_clock(plan.at, cutoff):
                continue
            day_start = at_local(local_date(plan.at), time(0))
            if any(e.kind == "phone_call" and e.at >= day_start for e in ctx.episode.events):
                continue
            text = (f"care plan received {hm(plan.at)} (at or after {cutoff:%H:%M} or on a non-weekday): "
                    "a phone contact in which the municipality acknowledges it verbally is expected")
            if ctx.log_has_phone_calls:
                ctx.violation(self.id, "warning", text + "; none in the log", events=[plan])
            else:
                ctx.obligation(self.id, text + "; the log holds no phone calls to check it")


class AcknowledgementContent(Rule):
    """ACK-2: an acceptance carries the agreed discharge time; a rejection carries a reason."""

    id = "ACK-2"
    kinds = frozenset({"care_plan_ack_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "care_plan_ack_sent":
            return
        decision = event.data.get("decision")
        if decision == "accept" and not event.data.get("discharge_at"):
            ctx.violation(self.id, "error", "acceptance without the agreed discharge time", actual=event.at,
                          events=[event])
        elif decision == "reject" and not event.data.get("reason"):
            ctx.violation(self.id, "error", "rejection without a reason", actual=event.at, events=[event])
        elif decision not in ("accept", "reject"):
            ctx.violation(self.id, "error", f"acknowledgement decision {decision!r} is neither accept nor reject",
                          actual=event.at, events=[event])


class QuestionAnswered(Rule):
    """ACK-3: the hospital answers the municipality's question about a care plan by the end of the next weekday."""

    id = "ACK-3"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "correspondence_sent" or not event.from_municipality:
            return
        about = ctx.episode.by_id.get(event.data.get("reply_to") or "")
        if about is None or about.kind != "care_plan_sent" or event.id is None:
            return
        due = ctx.calendar.end_of_next_weekday(event.at)
        ctx.expect(self.id, "warning", due, lambda e: e.from_hospital and e.data.get("reply_to") == event.id,
                   f"question of {hm(event.at)} about the care plan not answered by the end of the next weekday",
                   kinds=("correspondence_sent",), about=[event])


class CorrespondenceHandled(Rule):
    """COR-1: hospital correspondence sent on a weekday before the cutoff is handled the same day; otherwise
    by the end of the next weekday. Checkable where a reply refers to it: the reply must come by then."""

    id = "COR-1"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "correspondence_sent" or not event.from_municipality:
            return
        original = ctx.episode.by_id.get(event.data.get("reply_to") or "")
        if original is None or original.kind != "correspondence_sent" or not original.from_hospital:
            return
        due = ctx.calendar.handled_by(original.at, ctx.policy.correspondence.cutoff)
        if event.at > due:
            ctx.violation(self.id, "warning", f"reply to the hospital's correspondence of {hm(original.at)} "
                          f"came {hm(event.at)}, after {hm(due)}", due=due, actual=event.at,
                          events=[original, event])


class AfterDischargeCorrespondence(Rule):
    """COR-2: correspondence to the hospital after the discharge is not acted upon: the sender is told."""

    id = "COR-2"
    kinds = frozenset({"correspondence_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        discharged = _discharged(ctx)
        if event.kind != "correspondence_sent" or not event.from_municipality or discharged is None:
            return
        if event.at > discharged.at:
            ctx.violation(self.id, "warning", "correspondence sent to the hospital after the discharge is not acted "
                          "upon; within the 72-hour window phone the discharging department", due=discharged.at,
                          actual=event.at, events=[event])


class ConferenceHeld(Rule):
    """CONF-1: a discharge conference is held, typically, by the end of the next weekday after the care plan.

    Read: the conference counts as held when the hospital is ready to hold it (`conference_ready`); checked
    for episodes that have one.
    """

    id = "CONF-1"

    def on_close(self, ctx: Context) -> None:
        ready, plan = ctx.episode.first("conference_ready"), ctx.episode.first("care_plan_sent")
        if ready is None or plan is None:
            return
        due = ctx.calendar.end_of_next_weekday(plan.at)
        if ready.at > due:
            ctx.violation(self.id, "info", "discharge conference later than the end of the next weekday after "
                          "the care plan", due=due, actual=ready.at, events=[plan])


class CompletionNotice(Rule):
    """FM-1: when the agreed discharge date is later than the ready date, a completion notice by the end of
    the ready day. Read: the agreed discharge is the latest acceptance's time known at the end of the ready day."""

    id = "FM-1"
    kinds = frozenset({"ready_for_discharge"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "ready_for_discharge" or len(ctx.episode.of("ready_for_discharge")) > 1:
            return
        due = end_of_day(local_date(event.at))

        def check() -> None:
            agreed = [e.data.get("discharge_at") for e in ctx.episode.of("care_plan_ack_sent")
                      if e.data.get("decision") == "accept" and e.data.get("discharge_at") and e.at <= due]
            agreed += [e.data.get("agreed_discharge_at") for e in ctx.episode.of("completion_notice_sent")
                       if e.data.get("agreed_discharge_at") and e.at <= due]
            if not agreed or local_date(agreed[-1]) <= local_date(event.at):
                return
            ctx.expect(self.id, "warning", due, lambda e: True,
                       f"agreed discharge {local_date(agreed[-1])} is after the ready day {local_date(event.at)}: "
                       "completion notice due by the end of the ready day", kinds=("completion_notice_sent",))

        ctx.at(due, check)


class CompletionTax(Rule):
    """TAX-1..TAX-5: completion-tax days, DKK and disputable days, computed once the episode is complete."""

    id = "TAX-1"

    def on_close(self, ctx: Context) -> None:
        ep = ctx.episode
        ready, discharged = _ready(ctx), _discharged(ctx)
        if ready is None or discharged is None or discharged.at <= ready.at:
            return
        contacts = [e for e in ep.events if e.from_hospital and e.kind in (
            "care_plan_sent", "completion_notice_sent", "correspondence_sent", "phone_call")]
        terminal = next((e for e in ep.of("terminal") if e.data.get("wishes_to_stay")), None)
        facts = TaxFacts(
            ready_at=ready.at, discharged_at=discharged.at,
            first_hospital_contact_at=contacts[0].at if contacts else None,
            conference_ready_at=getattr(ep.first("conference_ready"), "at", None),
            guardianship_info_at=getattr(ep.first("guardianship_info_sent"), "at", None),
            terminal_stay_from=terminal.at if terminal else None,
            leaves=_leaves(ep.events, discharged.at),
            care_plan_before_ready=any(e.at < ready.at for e in ep.of("care_plan_sent")),
        )
        result = count_tax(facts, ctx.policy)
        ep.results["tax"] = result


def _leaves(events: list[Event], end: datetime) -> tuple[tuple[datetime, datetime], ...]:
    periods, start = [], None
    for e in events:
        if e.kind == "leave_started":
            start = e.at
        elif e.kind == "leave_ended" and start is not None:
            periods.append((start, e.at))
            start = None
    if start is not None:
        periods.append((start, end))
    return tuple(periods)


class DischargeAdvice(Rule):
    """DIS-1: the discharge advice is sent at or after the discharge, within 60 minutes."""

    id = "DIS-1"
    kinds = frozenset({"discharge_advice_sent", "discharged"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind == "discharge_advice_sent":
            discharged = _discharged(ctx)
            if discharged is not None and event.at < discharged.at:
                ctx.violation(self.id, "error", "discharge advice sent before the discharge", due=discharged.at,
                              actual=event.at, events=[event])
        if event.kind == "discharged":
            ctx.expect(self.id, "error", add_elapsed(event.at, ctx.policy.discharge.advice_within),
                       lambda e: e.at >= event.at, "discharge advice expected within the delay after the discharge",
                       kinds=("discharge_advice_sent",))


class DischargeReport(Rule):
    """DIS-2: the discharge report at the discharge, at the latest 60 minutes after; sent at or after the
    cutoff on a weekday or on a non-weekday, a phone call is required when the municipality must act before
    the next weekday (an obligation: the log does not say whether it must)."""

    id = "DIS-2"
    kinds = frozenset({"discharged", "discharge_report_sent"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind == "discharged":
            ctx.expect(self.id, "warning", add_elapsed(event.at, ctx.policy.discharge.report_within),
                       lambda e: True, "discharge report expected at the discharge, within the delay",
                       kinds=("discharge_report_sent",))
        elif event.kind == "discharge_report_sent" and not ctx.calendar.weekday_before_clock(
                event.at, ctx.policy.discharge.phone_cutoff):
            ctx.obligation(self.id, f"discharge report sent {hm(event.at)}: phone the municipality if it must act "
                           "before the next weekday")


class ExtendedResponsibility(Rule):
    """R72-1, DIS-3, R72-2: the 72-hour window, its statement in the discharge report, and who answers
    inquiries about the patient after the discharge."""

    id = "R72-1"

    def on_close(self, ctx: Context) -> None:
        ep = ctx.episode
        discharged, admitted = _discharged(ctx), ep.first("admitted")
        if discharged is None:
            return
        extended = ep.last("responsibility_extended")
        applies, until = responsibility_window(
            ready=_ready(ctx) is not None, admitted_at=admitted.at if admitted else None,
            discharged_at=discharged.at, somatic=bool(admitted.data.get("somatic", True)) if admitted else True,
            destination=discharged.data.get("destination"),
            extended_until=extended.data.get("until") if extended else None, policy=ctx.policy)
        ep.results["r72"] = (applies, until)
        report = ep.first("discharge_report_sent")
        if applies and report is not None:
            computed = add_elapsed(discharged.at, ctx.policy.extended_responsibility.window)
            stated = report.data.get("extended_responsibility_until")
            if stated is None:
                ctx.violation("DIS-3", "warning", "the 72-hour responsibility applies but the discharge report does "
                              "not state it", due=computed, actual=report.at, events=[report])
            elif elapsed(stated, computed) != timedelta(0):
                ctx.violation("DIS-3", "warning", f"the discharge report states the responsibility ends "
                              f"{hm(stated)}, but 72 hours (elapsed) after the discharge is {hm(computed)}",
                              due=computed, actual=stated, events=[report])
        for e in ep.events:
            if e.at > discharged.at and e.from_municipality and e.kind in ("phone_call", "correspondence_sent"):
                inside = applies and until is not None and e.at <= until
                ep.inquiries.append({"at": to_local(e.at).isoformat(), "via": e.kind,
                                     "responsible": "discharging department" if inside else "general practitioner"})


class UnplannedDischarge(Rule):
    """DIS-4: an unplanned discharge is followed by a message or phone call to the municipality the same day."""

    id = "DIS-4"
    kinds = frozenset({"discharged"})

    def on_event(self, ctx: Context, event: Event) -> None:
        if event.kind != "discharged" or not event.data.get("unplanned"):
            return
        ctx.expect(self.id, "info", end_of_day(local_date(event.at)),
                   lambda e: e.from_hospital and e.at >= event.at and (e.is_message or e.kind == "phone_call"),
                   "unplanned discharge: no message or phone call to the municipality the same day")


class Leave(Rule):
    """LEAVE-1: a leave period lasts at most 72 hours (two consecutive periods allowed around public
    holidays); a planned re-admission soon after a discharge should have been a leave.

    Read: periods are consecutive when one starts at most an hour after the previous ended; a planned
    re-admission is an `admitted` event with `planned: true` for the same CPR number (see the engine note).
    """

    id = "LEAVE-1"

    def on_close(self, ctx: Context) -> None:
        limit = ctx.policy.leave.max_period
        discharged = _discharged(ctx)
        periods = _leaves(ctx.episode.events, discharged.at if discharged else ctx.now)
        chain: list[tuple[datetime, datetime]] = []
        for start, end in periods:
            if elapsed(start, end) > limit:
                ctx.violation(self.id, "warning", f"leave from {hm(start)} to {hm(end)} is longer than "
                              f"{limit}", due=add_elapsed(start, limit), actual=end)
            if chain and elapsed(chain[-1][1], start) <= timedelta(hours=1):
                chain.append((start, end))
            else:
                chain = [(start, end)]
            if len(chain) == 2 and not self._holiday_between(ctx, chain[0][0], end):
                ctx.violation(self.id, "warning", "two consecutive leave periods without a public holiday",
                              actual=start)
            elif len(chain) > 2:
                ctx.violation(self.id, "warning", "more than two consecutive leave periods", actual=start)

    @staticmethod
    def _holiday_between(ctx: Context, start: datetime, end: datetime) -> bool:
        day, last = local_date(start), local_date(end)
        while day <= last:
            if day.weekday() < 5 and not ctx.calendar.is_weekday(day):
                return True
            day += timedelta(days=1)
        return False


class TerminalDeclaration(Rule):
    """TERM-1: a terminal patient discharged home, to a nursing home or a hospice has the terminal
    declaration at the discharge. Read: a declaration dated after the discharge came too late."""

    id = "TERM-1"

    def on_close(self, ctx: Context) -> None:
        discharged, terminal = _discharged(ctx), ctx.episode.first("terminal")
        if discharged is None or terminal is None:
            return
        if discharged.data.get("destination") in ("home", "home_nursing", "nursing_home", "hospice") \
                and terminal.at > discharged.at:
            ctx.violation(self.id, "warning", "terminal declaration came after the discharge", due=discharged.at,
                          actual=terminal.at)


class Receipts(Rule):
    """M-RECEIPT: a message that asks for a positive receipt gets a receipt within 30 minutes.

    Checked where the log holds receipts at all (a timeline says nothing about receipt requests otherwise).
    """

    id = "M-RECEIPT"
    kinds = MESSAGE_EVENTS

    def on_event(self, ctx: Context, event: Event) -> None:
        if not event.is_message or event.kind == "receipt_sent" or not event.receipt_requested \
                or not ctx.log_has_receipts or event.id is None:
            return
        ctx.expect(self.id, "warning", add_elapsed(event.at, ctx.policy.messages.receipt_timeout),
                   lambda e: e.data.get("ref") == event.id, f"no receipt for {event.kind} {event.id}",
                   kinds=("receipt_sent",), about=[event])


ALL_RULES: tuple[type[Rule], ...] = (
    AdmissionAdvice, AdmissionReport, CarePlanDeadline, PhoneWhenLate, OneCarePlan, SameDayAcknowledgement,
    AcknowledgementContent, QuestionAnswered, CorrespondenceHandled, AfterDischargeCorrespondence,
    ConferenceHeld, CompletionNotice, CompletionTax, DischargeAdvice, DischargeReport, ExtendedResponsibility,
    UnplannedDischarge, Leave, TerminalDeclaration, Receipts,
)


def all_rules() -> list[Rule]:
    return [cls() for cls in ALL_RULES]
