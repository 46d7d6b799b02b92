"""Each rule with events on both sides of its deadline."""

from helpers.timelines import clean_episode, episode, obligations, replace, replay_lines, rules, without

from medcom.policy import load_policy


def has(rule: str, lines: list[dict]) -> bool:
    return rule in rules(replay_lines(lines))


def test_adm1_advice_before_admission_or_not_first() -> None:
    base = clean_episode()
    assert not has("ADM-1", base)
    assert has("ADM-1", replace(base, "admission_advice_sent", at="2025-03-24T08:39:59"))
    assert has("ADM-1", replace(base, "admission_report_sent", at="2025-03-24T08:40:30"))  # report before advice
    assert has("ADM-1", without(base, "admission_advice_sent"))


def test_adm2_report_within_60_minutes() -> None:
    base = clean_episode()
    assert "ADM-2" not in obligations(replay_lines(replace(base, "admission_report_sent", at="2025-03-24T09:41")))
    late = replay_lines(replace(base, "admission_report_sent", at="2025-03-24T09:41:01"))
    assert "ADM-2" in obligations(late)
    # Obligations alone (the catalogue lists it for replay only: the simulation, which reads none, does not run it):
    # never a violation.
    missing = replay_lines(without(base, "admission_report_sent"))
    assert "ADM-2" in obligations(missing) and "ADM-2" not in rules(late) + rules(missing)


def test_cp3_second_original_care_plan() -> None:
    second = {"at": "2025-03-26T09:00", "episode": "E", "event": "care_plan_sent", "id": "CP2"}
    base = clean_episode()
    assert has("CP-3", base + [second])
    with_reason = replace(base, "care_plan_sent", special_coordination="care_bed_or_lift")
    assert not has("CP-3", with_reason + [second])
    assert not has("CP-3", base + [{**second, "correction_of": "E-CP"}])


def test_ack1_same_day_both_sides_of_the_cutoff() -> None:
    def ack1(plan: str, ack: str) -> tuple[bool, bool]:
        lines = replace(clean_episode(plan=plan), "care_plan_ack_sent", at=ack)
        report = replay_lines(lines)
        return "ACK-1" in rules(report), "ACK-1" in obligations(report)

    assert ack1("2025-03-25T13:59:59", "2025-03-25T23:59:59") == (False, False)
    assert ack1("2025-03-25T13:59:59", "2025-03-26T00:00:00") == (True, False)
    assert ack1("2025-03-25T14:00:00", "2025-03-26T09:00:00") == (False, True)  # phone acknowledgement expected
    assert ack1("2025-03-22T10:00:00", "2025-03-24T09:00:00") == (False, True)  # Saturday
    call = {"at": "2025-03-25T14:20", "episode": "E", "event": "phone_call", "caller": "hospital", "topic": "plan"}
    late = clean_episode(plan="2025-03-25T14:00:00")
    assert "ACK-1" not in rules(replay_lines(late + [call])) + obligations(replay_lines(late + [call]))
    elsewhere = {**call, "episode": "X"}  # the log records calls, but none for this care plan
    assert "ACK-1" in rules(replay_lines(late + [elsewhere]))


def test_ack2_content() -> None:
    base = clean_episode()
    assert not has("ACK-2", base)
    no_time = [{k: v for k, v in line.items() if k != "discharge_at"} for line in base]
    assert has("ACK-2", no_time)
    assert has("ACK-2", replace(base, "care_plan_ack_sent", decision="reject"))
    assert not has("ACK-2", replace(base, "care_plan_ack_sent", decision="reject", reason="more_coordination"))


def test_ack3_question_answered_by_end_of_next_weekday() -> None:
    def ack3(answer: str) -> bool:
        return has("ACK-3", clean_episode() + [
            {"at": "2025-03-25T15:00", "episode": "E", "event": "correspondence_sent", "id": "Q",
             "sender": "municipality", "reply_to": "E-CP", "subject": "Spørgsmål"},
            {"at": answer, "episode": "E", "event": "correspondence_sent", "id": "A", "sender": "hospital",
             "reply_to": "Q", "subject": "Svar"}])

    assert not ack3("2025-03-26T23:59:59")
    assert ack3("2025-03-27T00:00:00")


def test_cor2_correspondence_after_discharge() -> None:
    late = {"at": "2025-03-27T15:00", "episode": "E", "event": "correspondence_sent", "id": "Q",
            "sender": "municipality", "subject": "Medicin?"}
    assert has("COR-2", clean_episode() + [late])
    assert not has("COR-2", clean_episode() + [{**late, "at": "2025-03-27T12:59"}])


def test_dis1_advice_within_60_minutes_after_discharge() -> None:
    base = clean_episode()
    assert not has("DIS-1", replace(base, "discharge_advice_sent", at="2025-03-27T14:00:00"))
    assert has("DIS-1", replace(base, "discharge_advice_sent", at="2025-03-27T14:00:01"))
    assert has("DIS-1", replace(base, "discharge_advice_sent", at="2025-03-27T12:59:59"))


def test_dis2_report_within_60_minutes_and_phone_after_cutoff() -> None:
    base = clean_episode()
    assert not has("DIS-2", replace(base, "discharge_report_sent", at="2025-03-27T14:00:00"))
    late = replay_lines(replace(base, "discharge_report_sent", at="2025-03-27T14:00:01"))
    assert "DIS-2" in rules(late) and "DIS-2" in obligations(late)  # also sent after the cutoff: phone
    assert [o["text"] for o in episode(late)["obligations"] if o["rule"] == "DIS-2"] == [
        "discharge report sent Thu 2025-03-27 14:00: phone the municipality if it must act before the next weekday"]
    early = replay_lines(replace(base, "discharge_report_sent", at="2025-03-27T13:59:59"))
    assert "DIS-2" not in obligations(early)


def test_dis4_unplanned_discharge_same_day() -> None:
    base = replace(clean_episode(), "discharged", unplanned=True)
    assert not has("DIS-4", base)
    silent = without(base, "discharge_advice_sent", "discharge_report_sent")
    assert has("DIS-4", silent)
    assert not has("DIS-4", silent + [{"at": "2025-03-27T23:59:59", "episode": "E", "event": "phone_call",
                                       "caller": "hospital", "topic": "patient left"}])


def test_r72_conditions() -> None:
    def applies(lines: list[dict]) -> bool:
        return episode(replay_lines(lines))["extended_responsibility"]["applies"]

    base = clean_episode()
    assert applies(base)
    assert not applies(clean_episode(destination="home"))
    assert not applies(replace(base, "admitted", somatic=False))
    assert not applies(without(base, "ready_for_discharge"))
    exact = clean_episode(admitted="2025-03-26T13:00", plan="2025-03-26T13:30")
    assert applies(exact)  # Wed 13:00 to Thu 13:00: exactly 24 h is "at least 24 hours"
    short = replace(exact, "admitted", at="2025-03-26T13:00:01")
    assert not applies(short)  # one second short of 24 h


def test_r72_extension_and_inquiries() -> None:
    lines = clean_episode() + [
        {"at": "2025-03-28T09:00", "episode": "E", "event": "phone_call", "caller": "municipality", "topic": "?"},
        {"at": "2025-03-30T15:00", "episode": "E", "event": "phone_call", "caller": "municipality", "topic": "?"}]
    e = episode(replay_lines(lines))
    assert [i["responsible"] for i in e["inquiries"]] == ["discharging department", "general practitioner"]
    extended = lines + [{"at": "2025-03-29T10:00", "episode": "E", "event": "responsibility_extended",
                         "until": "2025-04-02T12:00"}]
    e = episode(replay_lines(extended))
    assert e["extended_responsibility"]["until"] == "2025-04-02T12:00:00+02:00"
    assert [i["responsible"] for i in e["inquiries"]] == ["discharging department"] * 2


def test_fm1_completion_notice_when_discharge_is_agreed_later() -> None:
    later = replace(clean_episode(ready="2025-03-27T10:00", discharged="2025-03-28T11:00"), "care_plan_ack_sent",
                    discharge_at="2025-03-28T11:00")
    assert has("FM-1", later)
    notice = {"at": "2025-03-27T23:59:59", "episode": "E", "event": "completion_notice_sent", "id": "FM",
              "agreed_discharge_at": "2025-03-28T11:00"}
    assert not has("FM-1", later + [notice])
    assert has("FM-1", later + [{**notice, "at": "2025-03-28T00:00:00"}])
    assert not has("FM-1", clean_episode())  # agreed discharge on the ready day: no notice needed


def test_leave_periods() -> None:
    def leave(start: str, end: str) -> list[dict]:
        return [{"at": start, "episode": "E", "event": "leave_started"},
                {"at": end, "episode": "E", "event": "leave_ended"}]

    base = clean_episode(admitted="2025-03-10T08:40", plan="2025-03-25T11:00")
    assert not has("LEAVE-1", base + leave("2025-03-14T10:00", "2025-03-17T10:00"))  # exactly 72 h
    assert has("LEAVE-1", base + leave("2025-03-14T10:00", "2025-03-17T10:00:01"))
    two = leave("2025-03-11T10:00", "2025-03-13T10:00") + leave("2025-03-13T10:30", "2025-03-15T10:00")
    assert has("LEAVE-1", base + two)  # consecutive periods without a public holiday
    easter = clean_episode(admitted="2025-04-10T08:40", plan="2025-04-22T11:00", ready="2025-04-24T10:00",
                           discharged="2025-04-24T13:00")
    two_easter = leave("2025-04-16T10:00", "2025-04-18T10:00") + leave("2025-04-18T10:30", "2025-04-21T10:00")
    assert not has("LEAVE-1", easter + two_easter)


def test_m_receipt_within_30_minutes_where_the_log_has_receipts() -> None:
    base = clean_episode()
    assert "M-RECEIPT" not in rules(replay_lines(base))  # a log without receipts is not checked
    receipts = [{"at": line["at"][:-2] + "59" if False else line["at"], "episode": "E", "event": "receipt_sent",
                 "ref": line["id"], "positive": True} for line in base if "id" in line]
    assert "M-RECEIPT" not in rules(replay_lines(base + receipts))
    late = [dict(r) for r in receipts]
    late[0]["at"] = "2025-03-24T09:11:01"  # the advice was at 08:41: 30 min 1 s
    assert rules(replay_lines(base + late)).count("M-RECEIPT") == 1
    assert rules(replay_lines(base + late[1:])).count("M-RECEIPT") == 1


def test_input_rules_dup_ref_order() -> None:
    base = clean_episode()
    report = replay_lines(base + [dict(base[3])])
    messages = sum(1 for line in base if line["event"].endswith("_sent"))
    assert report["inputs"]["duplicates"] == 1 and report["inputs"]["accepted"] == messages
    assert report["events"] == {"lines": len(base) - messages, "accepted": len(base) - messages, "rejected": 0}
    assert "M-DUP" in rules(report)
    dangling = base + [{"at": "2025-03-26T10:00", "episode": "E", "event": "correspondence_sent", "id": "R",
                        "sender": "municipality", "reply_to": "NOPE", "subject": "?"}]
    assert "M-REF" in rules(replay_lines(dangling))
    early = base + [{"at": "2025-03-25T10:00", "episode": "E", "event": "care_plan_sent", "id": "FIX",
                     "correction_of": "E-CP"}]
    assert "M-ORDER" in rules(replay_lines(early))


def test_bad_lines_are_counted_and_reported() -> None:
    report = replay_lines(clean_episode() + [{"at": "2025-03-30T02:30", "episode": "E", "event": "phone_call"},
                                             {"episode": "E", "event": "phone_call"},
                                             {"at": "2025-03-25T10:00", "episode": "E", "event": "teleport"}])
    # Fact lines are counted apart from messages (CONTRACT.md); an unknown event counts as a message.
    assert report["inputs"]["rejected"] == 1 and report["events"]["rejected"] == 2
    assert {f["rule"] for f in report["input_findings"]} == {"M-TIME", "M-SCHEMA"}
    assert all(f["line"] for f in report["input_findings"])


def test_policy_cutoff_moves_the_deadline() -> None:
    lines = clean_episode(plan="2025-03-26T12:30")
    assert not has("CP-1", lines)
    noon = load_policy().with_overrides({"care_plan": {"cutoff": "12:00"}})
    assert "CP-1" in rules(replay_lines(lines, noon))


def violations(report: dict, rule: str, name: str = "E") -> list[dict]:
    return [v for v in episode(report, name)["violations"] if v["rule"] == rule]


def without_key(lines: list[dict], event: str, key: str) -> list[dict]:
    return [{k: v for k, v in line.items() if k != key} if line["event"] == event else line for line in lines]


def test_ack1_acknowledgement_without_ref_acknowledges_the_latest_plan_before_it() -> None:
    base = without_key(clean_episode(), "care_plan_ack_sent", "ref")  # plan Tue 11:00, ack Tue 13:30, no ref
    assert not has("ACK-1", base)
    assert not has("ACK-1", replace(base, "care_plan_ack_sent", at="2025-03-25T23:59:59"))
    (late,) = violations(replay_lines(replace(base, "care_plan_ack_sent", at="2025-03-26T00:00:00")), "ACK-1")
    assert late["actual"] == "2025-03-26T00:00:00+01:00" and late["message_ids"] == ["E-CP", "E-ACK"]
    # An acknowledgement sent before the care plan does not acknowledge it.
    assert has("ACK-1", replace(base, "care_plan_ack_sent", at="2025-03-25T10:59"))


def test_ack1_acknowledgement_without_ref_takes_the_latest_plan_not_yet_acknowledged() -> None:
    first = replace(clean_episode(plan="2025-03-25T09:00"), "care_plan_sent", special_coordination="care_bed_or_lift")
    first = without_key(first, "care_plan_ack_sent", "ref")  # ack Tue 13:30, no ref
    second = {"at": "2025-03-25T11:00", "episode": "E", "event": "care_plan_sent", "id": "E-CP2"}
    # One acknowledgement without a ref: it acknowledges the latest plan (the second); the first is not.
    (missing,) = violations(replay_lines(first + [second]), "ACK-1")
    assert missing["message_ids"][0] == "E-CP"
    # A second one acknowledges the first (the latest one not yet acknowledged).
    again = {"at": "2025-03-25T13:40", "episode": "E", "event": "care_plan_ack_sent", "id": "E-ACK2",
             "decision": "accept", "discharge_at": "2025-03-27T13:00"}
    assert not has("ACK-1", first + [second, again])
    # An acknowledgement with a ref names its plan: the other one stays unacknowledged.
    named = replace(first, "care_plan_ack_sent", ref="E-CP")
    (missing,) = violations(replay_lines(named + [second]), "ACK-1")
    assert missing["message_ids"][0] == "E-CP2"
    # ... and a ref-less one after it takes the plan the named one did not.
    assert not has("ACK-1", named + [second, again])


def test_ack1_free_text_correspondence_from_the_municipality_acknowledges() -> None:
    base = without(clean_episode(), "care_plan_ack_sent")
    letter = {"at": "2025-03-25T12:00", "episode": "E", "event": "correspondence_sent", "id": "K",
              "sender": "municipality", "subject": "Kvittering for plejeforløbsplan"}
    assert has("ACK-1", base)
    assert not has("ACK-1", base + [letter])
    assert has("ACK-1", base + [{**letter, "sender": "hospital"}])  # the hospital cannot acknowledge its own plan


def test_ack1_phone_acknowledgement_comes_at_or_after_the_plan() -> None:
    late = clean_episode(plan="2025-03-25T15:00")  # after the cutoff: a phone acknowledgement is expected

    def call(at: str) -> dict:
        return {"at": at, "episode": "E", "event": "phone_call", "caller": "hospital", "topic": "plejeforløbsplan"}

    assert not has("ACK-1", late + [call("2025-03-25T15:00")])
    assert not has("ACK-1", late + [call("2025-03-26T09:00")])
    assert has("ACK-1", late + [call("2025-03-25T14:59:59")])  # before the plan existed
    assert has("ACK-1", late + [call("2025-03-25T10:00")])


def test_ready_time_revised_later_moves_the_care_plan_deadline() -> None:
    # Ready Monday 24 March, revised to Thursday 27 March: CP-1's deadline is Wednesday 14:00, not Friday 21.
    revised = clean_episode(plan="2025-03-25T11:00", ready="2025-03-27T10:00") + [
        {"at": "2025-03-24T10:00", "episode": "E", "event": "ready_for_discharge"}]
    assert not has("CP-1", revised)
    (cp1,) = violations(replay_lines(replace(revised, "care_plan_sent", at="2025-03-26T14:00:01")), "CP-1")
    assert cp1["due"] == "2025-03-26T14:00:00+01:00"
    assert not has("CP-2", revised)


def test_ready_time_revised_later_moves_the_completion_notice_deadline() -> None:
    # Ready Wednesday 26, revised to Thursday 27 10:00; discharge agreed for Friday 28: notice by Thursday's end.
    lines = replace(clean_episode(ready="2025-03-27T10:00", discharged="2025-03-28T11:00"), "care_plan_ack_sent",
                    discharge_at="2025-03-28T11:00") + [
        {"at": "2025-03-26T10:00", "episode": "E", "event": "ready_for_discharge"}]
    notice = {"at": "2025-03-27T23:59:59", "episode": "E", "event": "completion_notice_sent", "id": "FM",
              "agreed_discharge_at": "2025-03-28T11:00"}
    assert not has("FM-1", lines + [notice])
    (fm1,) = violations(replay_lines(lines + [{**notice, "at": "2025-03-28T00:00:00"}]), "FM-1")
    assert fm1["due"] == "2025-03-27T23:59:59+01:00"


def test_dis1_advice_before_the_discharge_is_reported_as_such() -> None:
    (early,) = violations(replay_lines(replace(clean_episode(), "discharge_advice_sent", at="2025-03-27T12:59:59")),
                          "DIS-1")
    assert "before the discharge" in early["text"]
    assert (early["due"], early["actual"]) == ("2025-03-27T13:00:00+01:00", "2025-03-27T12:59:59+01:00")
    assert early["message_ids"] == ["E-DA"]
    # At the discharge itself is in time.
    assert not has("DIS-1", replace(clean_episode(), "discharge_advice_sent", at="2025-03-27T13:00:00"))


def test_leave1_planned_readmission_within_the_window() -> None:
    first = clean_episode("E1")  # discharged Thu 27 March 13:00 (CET)

    def readmitted(at: str, **changes: object) -> list[dict]:
        second = clean_episode("E2", admitted=at, plan="2025-04-01T09:00", ready="2025-04-02T10:00",
                               discharged="2025-04-02T13:00")
        return first + replace(second, "admitted", **{"planned": True, **changes})

    # 72 hours (elapsed) after Thu 13:00 CET is Sun 30 March 14:00 CEST (the clocks went forward that night).
    report = replay_lines(readmitted("2025-03-30T14:00:00+02:00"))
    (leave,) = violations(report, "LEAVE-1", "E2")
    assert leave["actual"] == "2025-03-30T14:00:00+02:00" and "E1" in leave["text"]
    assert "LEAVE-1" not in rules(report, "E1")
    assert "LEAVE-1" not in rules(replay_lines(readmitted("2025-03-30T14:00:01+02:00")), "E2")
    assert "LEAVE-1" not in rules(replay_lines(readmitted("2025-03-28T10:00", planned=False)), "E2")
    assert "LEAVE-1" not in rules(replay_lines(readmitted("2025-03-28T10:00", cpr="0101501234")), "E2")
    assert "LEAVE-1" in rules(replay_lines(readmitted("2025-03-28T10:00", cpr="2509479989")), "E2")  # same CPR
    week = load_policy().with_overrides({"leave": {"readmission_window": "168h"}})
    assert "LEAVE-1" in rules(replay_lines(readmitted("2025-04-02T10:00"), week), "E2")
    assert "LEAVE-1" not in rules(replay_lines(readmitted("2025-04-02T10:00")), "E2")
