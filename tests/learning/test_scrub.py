"""The scrubber: phone numbers in the formats people write go, and the numbers a CV or a request is
made of (years, ranges, dates, ticket and order numbers) stay as they were."""

from __future__ import annotations

import pytest

from implementor.learning.scrub import leftovers, scrub

KEPT = ["2019", "2019-2022", "2019 – 2022", "(2015-2019)", "12.03.2024", "12/03/2024", "2024-03-12", "20240312",
        "ticket 12345678", "order 98765432", "order #4471-2290", "INV-20240312-0042", "1,234,567 users", "v1.2.3.4",
        "10:30-12:00", "3.1415926"]
PHONES = ["+44 20 7946 0958", "+1 (415) 555-2671", "+1 415 555 2671", "020 7946 0958", "(415) 555-2671",
          "415-555-2671", "+49 30 901820", "030 901820", "+33 1 42 68 53 00", "01 42 68 53 00", "06 12 34 56 78",
          "+31 6 12345678", "+91 98765 43210", "+61 2 9374 4000", "07911 123456", "+7 495 123-45-67",
          "+55 11 91234-5678", "+45 32 12 34 56"]


@pytest.mark.parametrize("text", KEPT)
def test_years_dates_and_ticket_numbers_stay_intact(text: str) -> None:
    sentence = f"Lead Planner at Acme {text}, see the notes."
    assert scrub(sentence) == sentence
    assert leftovers(sentence) == []


@pytest.mark.parametrize("number", PHONES)
def test_phone_numbers_are_removed_in_international_and_national_formats(number: str) -> None:
    assert scrub(f"Call me on {number} after lunch.") == "Call me on [phone] after lunch."
    assert leftovers(f"Call me on {number} after lunch.")  # what an audit of unscrubbed text would flag


def test_a_harvested_cv_line_keeps_its_years_and_loses_the_number() -> None:
    line = ("Project Manager, Acme (2019-2022): ran ticket 12345678 to close on 12.03.2024; "
            "reach me on +44 20 7946 0958 or 020 7946 0958.")
    assert scrub(line) == ("Project Manager, Acme (2019-2022): ran ticket 12345678 to close on 12.03.2024; "
                           "reach me on [phone] or [phone].")
