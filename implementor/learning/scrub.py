"""What never leaves a member's message for a training set: mentions, e-mail addresses, phone numbers,
URLs and Discord invites. Each is replaced by a neutral placeholder, so the sentence still reads.

Phone numbers are found by Google's libphonenumber rules (the `phonenumbers` package), not by counting
digits: a number must be a valid number of its country, so years, ranges ("2019-2022"), dates
("12.03.2024", "2024-03-12") and ticket or order numbers stay, while "+44 20 7946 0958",
"+1 (415) 555-2671" or "020 7946 0958" go. A number written with its country code (+...) is found
whatever the country; one written the national way is read as a number of each of `REGIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers

from implementor.contracts.text_safety import neutralise_mentions

_INVITE = re.compile(r"(?:https?://)?(?:www\.)?(?:discord(?:app)?\.com/invite|discord\.gg)/[\w-]+", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Where members are most likely to write numbers the national way. Left out on purpose: countries
# whose numbering plans make "2019-2022", "20240312" or an 8-digit ticket a valid number (Denmark,
# Luxembourg, Latvia, Norway, Singapore, ...); their members' numbers still go when written as +45 ...
REGIONS = ("US", "GB", "DE", "FR", "NL", "IN", "IT", "ES", "BR", "AU")
_DIGITS = re.compile(r"\d")
_NAME_MENTION = re.compile(r"(?<![\w@])@[\w.]{2,32}\b")
_SPACES = re.compile(r"[ \t]{2,}")


def scrub(text: str) -> str:
    """The message with every pattern above replaced; order matters (an invite is also a URL)."""
    text = neutralise_mentions(text)  # <@123>, <@&123>, <#123>, @everyone, @here
    text = _INVITE.sub("[invite]", text)
    text = _URL.sub("[link]", text)
    text = _EMAIL.sub("[email]", text)
    text = _replace(text, list(_phones(text)), "[phone]")
    text = _NAME_MENTION.sub("[someone]", text)
    return _SPACES.sub(" ", text).strip()


def _phones(text: str, regions: Sequence[str] = REGIONS) -> Iterator[tuple[int, int]]:
    """(start, end) of each phone number, as any of the regions reads it (overlaps possible)."""
    if len(_DIGITS.findall(text)) < 6:  # no phone number is shorter; skip the matcher's work
        return
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            yield match.start, match.end


def _replace(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    """Each span (merged where they overlap) replaced by one placeholder."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + placeholder + text[end:]
    return text


def leftovers(text: str) -> list[str]:
    """Anything a scrubbed text still holds that looks like one of the patterns (for tests and audits)."""
    found = []
    for name, pattern in (("invite", _INVITE), ("url", _URL), ("email", _EMAIL),
                          ("mention", re.compile(r"<(?:@[!&]?|#)\d+>|@everyone|@here", re.IGNORECASE))):
        found += [f"{name}: {m.group(0)}" for m in pattern.finditer(text)]
    found += [f"phone: {text[start:end]}" for start, end in _phones(text)]
    return found
