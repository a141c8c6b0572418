"""What a reply may name: only employers, clients, places, degrees and years that its CV or the request gives."""

from __future__ import annotations

import pytest

from implementor.contracts.grounding import grounded_only, ungrounded
from implementor.contracts.persona import Persona

CV = ("## Profile\nI have planned events for 9 years.\n\n## Skills\n- plan events\n- budget\n- negotiate\n\n"
      "## Experience\n- Senior Planner, Acme Events Ltd (2019-present). Ran trade fairs.\n"
      "- Planner, Read, Harper and O'Sullivan (2017-2019). Booked halls.\n\n"
      "## Education\n- BA in Events, University of Leeds (2016)")
ADA = Persona.from_cv("Ada Byron", "Event Planner", CV)
REQUEST = "Hi all, can anyone help us plan the spring fair for Payne-Bernard in Utrecht? We have 3 weeks."


@pytest.mark.parametrize("reply", [
    "Happy to help. At Acme Events I have run fairs since 2019, and Payne-Bernard will get the same care.",
    "Count me in. My BA from the University of Leeds and my years at Read, Harper and O'Sullivan fit this.",
    "I can start on Monday in Utrecht; shall we meet in March? I'll bring the CRM notes and the TVs.",
    "Sounds good. I'm free on Friday.",
])
def test_what_the_cv_or_the_request_gives_is_grounded(reply: str) -> None:
    assert ungrounded(reply, ADA.known_text(), REQUEST) == []


@pytest.mark.parametrize("reply, invented", [
    ("As a planner at Koninklijke van Beek I ran fairs.", ["Koninklijke van Beek"]),
    ("I did this for Stichting van der Berger in Rotterdam.", ["Stichting van der Berger", "Rotterdam"]),
    ("I have an MSc in events from 2011.", ["MSc", "2011"]),
    ("Bright-Wood Partners asked me the same in 2018.", ["Bright-Wood Partners", "2018"]),
])
def test_what_neither_gives_is_found(reply: str, invented: list[str]) -> None:
    assert ungrounded(reply, ADA.known_text(), REQUEST) == invented


def test_only_the_sentences_that_invent_are_left_out() -> None:
    reply = "Happy to help. At Koninklijke van Beek I ran fairs. I can start on Monday."
    assert grounded_only(reply, ADA.known_text(), REQUEST) == "Happy to help. I can start on Monday."
    assert grounded_only("At Koninklijke van Beek I ran fairs.", ADA.known_text(), REQUEST) == ""
