"""The templates: how each kind of hotline message is built from its facts.

Each ``_build_<kind>`` returns the subject and the body's paragraphs, in the
language of the :class:`~deconfliction.hotline.wording._Ctx` it is given; the
sentences are gettext messages, extracted with the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from deconfliction.hotline.phrases import (
    _INTENTIONS,
    _PRIORITY_LABELS,
    _REQUESTS,
    _REQUESTS_TO,
    ANSWERS,
    MANOEUVRE_TARGETS,
    OPERATION_KINDS,
    QUESTIONS,
    SUBJECT_KINDS,
)
from deconfliction.hotline.wording import _Ctx, _Piece

# --- the templates ----------------------------------------------------------------

_Built = tuple[_Piece, list[_Piece]]


def _build_violation_complaint(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    incident = c.leaf(f["incident_id"])
    subject = c.fill(
        c.tr.gettext("Violation complaint: incident %(incident_id)s"),
        incident_id=incident,
    )
    party = c.leaf(f["offending_party"])
    name = c.leaf(f["boundary_name"])
    boundary = c.leaf(f["boundary_id"])
    if f["boundary_kind"] == "line":
        # TRANSLATORS: boundary_name is the line's name, in your language's
        # quotation marks; boundary_id its identifier; party the offending party.
        opening = c.tr.gettext(
            "We report a violation of the deconfliction line “%(boundary_name)s” "
            "(%(boundary_id)s) by an aircraft of %(party)s."
        )
    else:
        # TRANSLATORS: as above, for a zone that only its owner's aircraft may enter.
        opening = c.tr.gettext(
            "We report an incursion into the zone of responsibility "
            "“%(boundary_name)s” (%(boundary_id)s) by an aircraft of %(party)s."
        )
    lines = [
        c.fill(opening, boundary_name=name, boundary_id=boundary, party=party),
        c.fill(c.tr.gettext("Incident: %(incident_id)s."), incident_id=incident),
    ]
    if f.get("aircraft_id") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Aircraft: %(aircraft_id)s."),
                aircraft_id=c.leaf(f["aircraft_id"]),
            )
        )
    else:
        lines.append(c.fill(c.tr.gettext("Aircraft: not identified.")))
    lines.append(c.fill(c.tr.gettext("Entry: %(time)s."), time=c.time(f["entry_t_s"])))
    exit_t_s = f.get("exit_t_s")
    duration_s = f.get("duration_s")
    if exit_t_s is not None:
        lines.append(c.fill(c.tr.gettext("Exit: %(time)s."), time=c.time(exit_t_s)))
        if duration_s is None:
            duration_s = exit_t_s - f["entry_t_s"]
    else:
        lines.append(
            c.fill(
                c.tr.gettext("The aircraft had not left when this message was sent.")
            )
        )
    if duration_s is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Duration: %(duration)s."), duration=c.duration(duration_s)
            )
        )
    lines.append(_deepest_point(c, f))
    lines.append(
        c.fill(
            c.tr.gettext(
                "We request an investigation and a report of the corrective action "
                "taken."
            )
        )
    )
    return subject, lines


def _deepest_point(c: _Ctx, f: Mapping[str, Any]) -> Any:
    """The sentence of a complaint that says where and how deep: across a line and
    from its buffer's edge, inside a line's buffer, or inside a zone (docs/protocol.md
    defines each depth). A message recorded before they were named gave one
    ``depth_nm`` and reads as it was sent."""
    where = {
        "position": c.position(f["lat_deg"], f["lon_deg"]),
        "altitude": c.altitude(f["alt_ft"]),
    }
    if f.get("depth_inside_zone_nm") is not None:
        # TRANSLATORS: depth is how far inside the zone's outline the aircraft was.
        text = c.tr.gettext(
            "Deepest point: %(depth)s inside the zone, at %(position)s, "
            "altitude %(altitude)s."
        )
        return c.fill(text, depth=c.distance(f["depth_inside_zone_nm"]), **where)
    if f.get("depth_across_line_nm") is not None:
        buffer = c.distance(f["buffer_nm"])
        edge = c.distance(f["depth_from_buffer_edge_nm"])
        if f["depth_across_line_nm"] > 0.0:
            # TRANSLATORS: across is how far past the line, on the side the party
            # must not be on; from_edge the same point's distance from the edge of
            # the buffer on the party's own side (the buffer plus across); buffer
            # the half-width of the buffer.
            text = c.tr.gettext(
                "Deepest point: %(across)s across the line, %(from_edge)s from the "
                "edge of its %(buffer)s buffer, at %(position)s, altitude "
                "%(altitude)s."
            )
            across = c.distance(f["depth_across_line_nm"])
            return c.fill(text, across=across, from_edge=edge, buffer=buffer, **where)
        # TRANSLATORS: the aircraft stayed on its own side of the line, but came
        # depth into the buffer (of half-width buffer) from its edge.
        text = c.tr.gettext(
            "Deepest point: %(depth)s into the %(buffer)s buffer on the aircraft's "
            "own side of the line, at %(position)s, altitude %(altitude)s."
        )
        return c.fill(text, depth=edge, buffer=buffer, **where)
    text = c.tr.gettext(
        "Deepest penetration: %(depth)s at %(position)s, altitude %(altitude)s."
    )
    return c.fill(text, depth=c.distance(f["depth_nm"]), **where)


def _build_notice_of_operation(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    operation = c.leaf(f["operation_id"])
    subject = c.fill(
        c.tr.gettext("Notice of operation %(operation_id)s"), operation_id=operation
    )
    lines = [
        c.fill(
            c.tr.gettext("We give notice of operation %(operation_id)s."),
            operation_id=operation,
        ),
        c.fill(
            c.tr.gettext("Type of operation: %(operation_kind)s."),
            operation_kind=c.label(OPERATION_KINDS[f["operation_kind"]]),
        ),
    ]
    if f.get("radius_nm") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Area: within %(radius)s of %(position)s."),
                radius=c.distance(f["radius_nm"]),
                position=c.position(f["lat_deg"], f["lon_deg"]),
            )
        )
    elif f.get("south_lat_deg") is not None:
        lines.append(
            c.fill(
                c.tr.gettext(
                    "Area: between %(south)s and %(north)s, "
                    "and between %(west)s and %(east)s."
                ),
                south=c.latitude(f["south_lat_deg"]),
                north=c.latitude(f["north_lat_deg"]),
                west=c.longitude(f["west_lon_deg"]),
                east=c.longitude(f["east_lon_deg"]),
            )
        )
    if f.get("floor_ft") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Altitudes: %(floor)s to %(ceiling)s."),
                floor=c.altitude(f["floor_ft"]),
                ceiling=c.altitude(f["ceiling_ft"]),
            )
        )
    if f.get("start_t_s") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Time: %(start)s to %(end)s."),
                start=c.time(f["start_t_s"], seconds=False),
                end=c.time(f["end_t_s"], seconds=False),
            )
        )
    if f.get("aircraft_count") is not None:
        lines.append(
            c.fill(
                c.tr.ngettext(
                    "%(count)s aircraft will take part.",
                    "%(count)s aircraft will take part.",
                    f["aircraft_count"],
                ),
                count=c.count(f["aircraft_count"]),
            )
        )
    else:
        # TRANSLATORS: the filer named no aircraft; the number is not known.
        unknown = c.tr.gettext("The number of aircraft taking part was not given.")
        lines.append(c.fill(unknown))
    lines.append(c.fill(c.tr.gettext("Please acknowledge receipt.")))
    return subject, lines


def _build_daily_checkin(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    party = c.leaf(f["party"])
    day: date = f["date"]
    subject = c.fill(
        c.tr.gettext("Daily check-in: %(party)s, %(date)s"),
        party=party,
        date=c.leaf(day.isoformat()),
    )
    lines = [
        c.fill(
            # TRANSLATORS: date is in words, as in "13 December 2017".
            c.tr.gettext("Daily check-in from %(party)s for %(date)s."),
            party=party,
            date=c.date_words(day),
        ),
        c.fill(c.tr.gettext("The duty officer is on watch and the line is working.")),
    ]
    incidents = f.get("open_incidents")
    if incidents == 0:
        lines.append(c.fill(c.tr.gettext("No incidents are open.")))
    elif incidents is not None:
        lines.append(
            c.fill(
                c.tr.ngettext(
                    "%(count)s incident is open.",
                    "%(count)s incidents are open.",
                    incidents,
                ),
                count=c.count(incidents),
            )
        )
    pending = f.get("unacknowledged_messages")
    if pending == 0:
        lines.append(c.fill(c.tr.gettext("No messages await acknowledgement.")))
    elif pending is not None:
        lines.append(
            c.fill(
                c.tr.ngettext(
                    "%(count)s message awaits acknowledgement.",
                    "%(count)s messages await acknowledgement.",
                    pending,
                ),
                count=c.count(pending),
            )
        )
    return subject, lines


def _build_request_for_information(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    about = c.fill(
        c.translate(SUBJECT_KINDS[f["subject_kind"]]),
        id=c.leaf(f["subject_id"]),
    )
    subject = c.fill(
        c.tr.gettext("Request for information: %(subject)s"), subject=about
    )
    lines = [
        c.fill(c.tr.gettext("Subject: %(subject)s."), subject=about),
        c.fill(c.tr.gettext("Time: %(time)s."), time=c.time(f["t_s"])),
        c.label(QUESTIONS[f["question"]]),
        c.fill(c.tr.gettext("Please reply on this line.")),
    ]
    return subject, lines


def _build_reply(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    message = c.leaf(f["reply_to_id"])
    subject = c.fill(
        c.tr.gettext("Reply to message %(message_id)s"), message_id=message
    )
    lines = [
        c.fill(c.tr.gettext("In reply to message %(message_id)s."), message_id=message),
        c.label(ANSWERS[f["answer"]]),
    ]
    remarks = f.get("remarks")
    if remarks is not None and remarks.strip():
        lines.append(c.fill(c.tr.gettext("Remarks (as written):")))
        lines.append(c.free(remarks))
    return subject, lines


def _build_escalation_notice(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    message = c.leaf(f["message_id"])
    priority = c.label(_PRIORITY_LABELS[f["priority"]])
    subject = c.fill(
        c.tr.gettext("Overdue: message %(message_id)s not acknowledged"),
        message_id=message,
    )
    if f.get("awaiting_party") is not None:
        first = c.fill(
            c.tr.gettext(
                "Message %(message_id)s (priority: %(priority)s) has not been "
                "acknowledged by %(party)s."
            ),
            message_id=message,
            priority=priority,
            party=c.leaf(f["awaiting_party"]),
        )
    else:
        first = c.fill(
            c.tr.gettext(
                "Message %(message_id)s (priority: %(priority)s) has not been "
                "acknowledged."
            ),
            message_id=message,
            priority=priority,
        )
    lines = [
        first,
        c.fill(
            c.tr.gettext("The deadline for acknowledgement passed at %(deadline)s."),
            deadline=c.time(f["deadline_t_s"]),
        ),
        c.fill(c.tr.gettext("Acknowledge the message at once.")),
    ]
    return subject, lines


def _build_missed_checkin(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    party = c.leaf(f["party"])
    day: date = f["date"]
    subject = c.fill(
        c.tr.gettext("Missed check-in: %(party)s, %(date)s"),
        party=party,
        date=c.leaf(day.isoformat()),
    )
    lines = [
        c.fill(
            # TRANSLATORS: date is in words; due is a UTC time, "2017-12-13 06:00Z".
            c.tr.gettext(
                "No check-in was received from %(party)s for %(date)s; it was due by "
                "%(due)s."
            ),
            party=party,
            date=c.date_words(day),
            due=c.time(f["due_t_s"], seconds=False),
        ),
        c.fill(
            c.tr.gettext("The duty officer of %(party)s is asked to check in at once."),
            party=party,
        ),
    ]
    return subject, lines


def _manoeuvre_target(c: _Ctx, f: Mapping[str, Any]) -> _Piece | None:
    field = MANOEUVRE_TARGETS[f["manoeuvre"]]
    value = f.get(field)
    if value is None:
        return None
    if field == "heading_deg":
        return c.heading(value)
    if field == "alt_ft":
        return c.level(value)
    return c.speed(value)


def _manoeuvre_closing(c: _Ctx, f: Mapping[str, Any]) -> list[_Piece]:
    lines = []
    if f.get("t_s") is not None:
        lines.append(
            c.fill(c.tr.gettext("Guidance as of %(time)s."), time=c.time(f["t_s"]))
        )
    lines.append(
        c.fill(
            c.tr.gettext(
                "Decided by our duty officer; the system's guidance is advice only."
            )
        )
    )
    return lines


def _build_manoeuvre_intention(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    alert = c.leaf(f["alert_id"])
    subject = c.fill(
        c.tr.gettext("Manoeuvre intention: alert %(alert_id)s"), alert_id=alert
    )
    target = _manoeuvre_target(c, f)
    assert target is not None  # required by _cross_intention
    lines = [
        c.fill(c.tr.gettext("Regarding alert %(alert_id)s."), alert_id=alert),
        c.fill(
            c.translate(_INTENTIONS[f["manoeuvre"]]),
            aircraft=c.leaf(f["aircraft_id"]),
            target=target,
        ),
        *_manoeuvre_closing(c, f),
        c.fill(c.tr.gettext("Please acknowledge.")),
    ]
    return subject, lines


def _build_request_for_manoeuvre(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    alert = c.leaf(f["alert_id"])
    subject = c.fill(
        c.tr.gettext("Request for manoeuvre: alert %(alert_id)s"), alert_id=alert
    )
    target = _manoeuvre_target(c, f)
    lines = [c.fill(c.tr.gettext("Regarding alert %(alert_id)s."), alert_id=alert)]
    if f.get("aircraft_id") is not None:
        lines.append(
            c.fill(
                c.tr.gettext("Your aircraft: %(aircraft)s."),
                aircraft=c.leaf(f["aircraft_id"]),
            )
        )
    if target is None:
        lines.append(c.label(_REQUESTS[f["manoeuvre"]]))
    else:
        lines.append(c.fill(c.translate(_REQUESTS_TO[f["manoeuvre"]]), target=target))
    lines += _manoeuvre_closing(c, f)
    lines.append(
        c.fill(c.tr.gettext("Please acknowledge and say whether you will comply."))
    )
    return subject, lines


def _build_free_text(c: _Ctx, f: Mapping[str, Any]) -> _Built:
    # TRANSLATORS: the subject of a message written as free text.
    return c.fill(c.tr.gettext("Message")), [c.free(f["text"])]
