"""The words of hotline messages: languages, kinds, and the labels each message uses.

Every label is a gettext message (``_msg``, with a context) extracted into
``locale/messages.pot`` (:mod:`deconfliction.hotline.catalogs`) and translated in
each language's ``.po``; :mod:`deconfliction.hotline.templates` renders messages
from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

LANGUAGES: Final = ("en", "ru", "ar")
KINDS: Final = (
    "violation_complaint",
    "notice_of_operation",
    "daily_checkin",
    "request_for_information",
    "reply",
    "escalation_notice",
    "missed_checkin",
    "request_for_manoeuvre",
    "manoeuvre_intention",
    "free_text",
)
BOUNDARY_KINDS: Final = ("line", "zone")
PRIORITIES: Final = ("routine", "urgent", "flash")


DOMAIN: Final = "messages"
SOURCE_LANGUAGE: Final = "en"  # the language of the msgids in this file
LOCALE_DIR: Final = Path(__file__).with_name("locale")

# Babel locale used for numbers and dates where it differs from the language code:
# British English writes "13 December 2017", as military correspondence does.
_FORMAT_LOCALE: Final = MappingProxyType({"en": "en_GB"})
# Latin digits everywhere (see the module docstring); Babel's default, said aloud.
_NUMBERING_SYSTEM: Final = "latn"

LRI: Final = "\u2066"  # left-to-right isolate
RLI: Final = "\u2067"  # right-to-left isolate
FSI: Final = "\u2068"  # first-strong isolate
PDI: Final = "\u2069"  # pop directional isolate
# Explicit direction controls removed from free text in text_bidi (kept in body).
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
) | {
    LRI,
    RLI,
    FSI,
    PDI,
}
_RTL_CLASSES: Final = frozenset({"R", "AL"})
_LTR_CLASSES: Final = frozenset({"L", "EN", "AN"})


@dataclass(frozen=True, slots=True)
class _Msg:
    """A message marked for extraction, translated when used (``_msg`` below)."""

    context: str
    text: str


def _msg(context: str, text: str) -> _Msg:
    """Mark a message with its context for extraction (keyword ``_msg``)."""
    return _Msg(context, text)


# The codes a fact may take, each with its translatable label or sentence.
# Operation kinds: a label for each of domain.operation_kinds.OPERATION_KINDS, in
# its order (a test checks they are the same).
OPERATION_KINDS: Final = MappingProxyType(
    {
        "air_patrol": _msg("operation kind", "air patrol"),
        "reconnaissance": _msg("operation kind", "reconnaissance"),
        "air_refuelling": _msg("operation kind", "air-to-air refuelling"),
        "airlift": _msg("operation kind", "airlift"),
        "search_and_rescue": _msg("operation kind", "search and rescue"),
        "medical_evacuation": _msg("operation kind", "medical evacuation"),
        "humanitarian_airdrop": _msg("operation kind", "humanitarian airdrop"),
        "uav_flight": _msg("operation kind", "unmanned aircraft flight"),
        "training_flight": _msg("operation kind", "training flight"),
        "air_operations": _msg("operation kind", "air operations"),
    }
)
SUBJECT_KINDS: Final = MappingProxyType(
    {
        "incident": _msg("subject", "incident %(id)s"),
        "conflict_alert": _msg("subject", "conflict alert %(id)s"),
        "operation": _msg("subject", "operation %(id)s"),
        "aircraft": _msg("subject", "aircraft %(id)s"),
        "message": _msg("subject", "message %(id)s"),
    }
)
QUESTIONS: Final = MappingProxyType(
    {
        "identity_of_aircraft": _msg(
            "question",
            "Please identify the aircraft concerned: callsign, type and unit.",
        ),
        "intentions": _msg("question", "Please state the intentions of your aircraft."),
        "confirm_position": _msg(
            "question", "Please confirm the position of your aircraft at that time."
        ),
        "confirm_altitude": _msg(
            "question", "Please confirm the altitude of your aircraft at that time."
        ),
        "confirm_operation_ended": _msg(
            "question", "Please confirm that the operation has ended."
        ),
        "status_of_investigation": _msg(
            "question", "Please report the status of your investigation."
        ),
    }
)
ANSWERS: Final = MappingProxyType(
    {
        "received": _msg("answer", "Your message has been received."),
        "will_investigate": _msg("answer", "We will investigate and report back."),
        "corrective_action_taken": _msg("answer", "Corrective action has been taken."),
        "dispute": _msg("answer", "We dispute the facts as stated."),
        "not_our_aircraft": _msg("answer", "The aircraft concerned is not ours."),
        "no_information": _msg("answer", "We have no information on this matter."),
    }
)
_PRIORITY_LABELS: Final = MappingProxyType(
    {
        "routine": _msg("priority", "routine"),
        "urgent": _msg("priority", "urgent"),
        "flash": _msg("priority", "flash"),
    }
)
# Manoeuvres (#17.5), each with the fact that gives its target: what we will do
# (``manoeuvre_intention``) and what we ask of the other party
# (``request_for_manoeuvre``), as the duty officer decides from the guidance.
MANOEUVRE_TARGETS: Final = MappingProxyType(
    {
        "turn_right": "heading_deg",
        "turn_left": "heading_deg",
        "climb": "alt_ft",
        "descend": "alt_ft",
        "speed_up": "gs_kt",
        "slow_down": "gs_kt",
    }
)
_INTENTIONS: Final = MappingProxyType(
    {
        "turn_right": _msg(
            "intention", "Our aircraft %(aircraft)s will turn right to %(target)s."
        ),
        "turn_left": _msg(
            "intention", "Our aircraft %(aircraft)s will turn left to %(target)s."
        ),
        "climb": _msg(
            "intention", "Our aircraft %(aircraft)s will climb to %(target)s."
        ),
        "descend": _msg(
            "intention", "Our aircraft %(aircraft)s will descend to %(target)s."
        ),
        "speed_up": _msg(
            "intention", "Our aircraft %(aircraft)s will speed up to %(target)s."
        ),
        "slow_down": _msg(
            "intention", "Our aircraft %(aircraft)s will slow down to %(target)s."
        ),
    }
)
_REQUESTS: Final = MappingProxyType(
    {
        "turn_right": _msg("request", "We ask that your aircraft turn right."),
        "turn_left": _msg("request", "We ask that your aircraft turn left."),
        "climb": _msg("request", "We ask that your aircraft climb."),
        "descend": _msg("request", "We ask that your aircraft descend."),
        "speed_up": _msg("request", "We ask that your aircraft speed up."),
        "slow_down": _msg("request", "We ask that your aircraft slow down."),
    }
)
_REQUESTS_TO: Final = MappingProxyType(
    {
        "turn_right": _msg(
            "request", "We ask that your aircraft turn right to %(target)s."
        ),
        "turn_left": _msg(
            "request", "We ask that your aircraft turn left to %(target)s."
        ),
        "climb": _msg("request", "We ask that your aircraft climb to %(target)s."),
        "descend": _msg("request", "We ask that your aircraft descend to %(target)s."),
        "speed_up": _msg(
            "request", "We ask that your aircraft speed up to %(target)s."
        ),
        "slow_down": _msg(
            "request", "We ask that your aircraft slow down to %(target)s."
        ),
    }
)
FLIGHT_LEVEL_FROM_FT: Final = 10_000.0
"""Targets at or above this are said as flight levels (FL250), below it in feet: a
transition altitude lower than any in the region the hotline serves."""
