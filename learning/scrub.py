"""What never leaves a member's message for a training set: mentions, e-mail addresses, phone numbers,
URLs and Discord invites. Each is replaced by a neutral placeholder, so the sentence still reads."""

from __future__ import annotations

import re

from contracts.text_safety import neutralise_mentions

_INVITE = re.compile(r"(?:https?://)?(?:www\.)?(?:discord(?:app)?\.com/invite|discord\.gg)/[\w-]+", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Seven digits or more, with the separators people type (+44 20 7946 0958, (555) 123-4567, 0612345678).
_PHONE = re.compile(r"(?<![\w])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d(?:[\s.-]?\d){6,}(?![\w])")
_NAME_MENTION = re.compile(r"(?<![\w@])@[\w.]{2,32}\b")
_SPACES = re.compile(r"[ \t]{2,}")


def scrub(text: str) -> str:
    """The message with every pattern above replaced; order matters (an invite is also a URL)."""
    text = neutralise_mentions(text)  # <@123>, <@&123>, <#123>, @everyone, @here
    text = _INVITE.sub("[invite]", text)
    text = _URL.sub("[link]", text)
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    text = _NAME_MENTION.sub("[someone]", text)
    return _SPACES.sub(" ", text).strip()


def leftovers(text: str) -> list[str]:
    """Anything a scrubbed text still holds that looks like one of the patterns (for tests and audits)."""
    found = []
    for name, pattern in (("invite", _INVITE), ("url", _URL), ("email", _EMAIL), ("phone", _PHONE),
                          ("mention", re.compile(r"<(?:@[!&]?|#)\d+>|@everyone|@here", re.IGNORECASE))):
        found += [f"{name}: {m.group(0)}" for m in pattern.finditer(text)]
    return found
