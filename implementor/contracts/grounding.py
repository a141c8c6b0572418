"""Does a reply stay within what its colleague's CV and the request say? Names, places, degrees, years.

A member reads the colleague's CV beside its reply; a reply that cites an employer, a client, a city, a
degree or a year that neither gives is the colleague contradicting itself. `ungrounded` finds them:

- **names**: runs of capitalised words (with the particles names carry: "van der", "de", "&", "of"),
  anywhere but a lone word opening a sentence ("Happy to help"); an acronym alone (CRM, HACCP) is a
  term of the trade, not a name;
- **years**: four digits from 1900 to 2099;
- **degrees**: BSc, MSc, PhD, MBA and their kind.

Each is grounded when the CV's facts (`Persona.known_text`) or the request contain it (compared without
case), or, for a name of several words, when every one of its capitalised words appears there (a CV's
"Payne-Bernard Ltd" grounds "Payne-Bernard"). Weekdays, months, "I" and its contractions are
everyday words, never flagged. Drafting uses this as a rule (`models/writer/drafts.py`), and the
writer's evaluation counts what it finds.
"""

from __future__ import annotations

import re

PARTICLES = {"van", "der", "den", "de", "da", "di", "del", "la", "le", "von", "of", "and", "&", "e", "y", "du",
             "des", "het", "ten", "ter", "dos", "das"}
EVERYDAY = {"i", "i'm", "i'll", "i've", "i'd", "monday", "tuesday", "wednesday", "thursday", "friday",
            "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august",
            "september", "october", "november", "december", "ok", "english", "discord", "dr", "mr", "ms", "mrs"}
DEGREES = re.compile(r"\b(BSc|BA|MSc|MA|BEng|MEng|PhD|MBA|HND|BBA|LLB|LLM|MPhil|DPhil|BTEC|NVQ)\b")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’.-]*|&")


def _capitalised(word: str) -> bool:
    """A name's word: capitalised, and not an acronym (CRM) or its plural (TVs)."""
    return word[:1].isupper() and not word.isupper() and not (word.endswith("s") and word[:-1].isupper())


def _opens_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?:;\n" or text[:at].endswith("\n")


# Words that open a sentence before a name ("At Acme I ..."): left out of the name.
OPENERS = {"at", "as", "for", "in", "with", "my", "our", "the", "this", "that", "when", "while", "after", "before",
           "since", "during", "from", "on", "by", "we", "you", "it", "they", "he", "she", "if", "but", "and", "so",
           "then", "there", "here", "also", "both", "each", "every", "some", "many", "most", "a", "an", "to", "like",
           "until", "through", "across", "under", "over", "about", "working", "whether", "once"}


def _names(text: str) -> list[str]:
    """Runs of capitalised words, particles allowed inside, less everyday words at either end and a
    sentence's opening function word ("At"); a lone word opening a sentence is left out (it may be
    capitalised only for being first), and an all-capitals acronym alone is a term, not a name."""
    found: list[str] = []
    run: list[str] = []
    first_opens = False

    def close() -> None:
        lo, hi = 0, len(run)
        if first_opens and run and run[0].lower() in OPENERS:
            lo = 1
        while lo < hi and run[lo].lower() in PARTICLES | EVERYDAY:
            lo += 1
        while hi > lo and run[hi - 1].lower() in PARTICLES | EVERYDAY:
            hi -= 1
        words = run[lo:hi]
        lone_first = first_opens and (lo, hi) == (0, 1)  # only the sentence's first word: capitalised for that
        if words and not lone_first and any(len(w) >= 3 for w in words):  # a lone initial ("J.") names nobody
            found.append(" ".join(words))
        run.clear()

    for match in _WORD.finditer(text):
        word = match.group(0).rstrip(".")
        opens = _opens_sentence(text, match.start())
        if opens:
            close()
        if _capitalised(word) or (run and (word.isupper() or word.lower() in PARTICLES)):
            if not run:
                first_opens = opens
            run.append(word)
        else:
            close()
    close()
    return found


def _grounded(phrase: str, known: str) -> bool:
    if phrase.lower() in known:
        return True
    words = [w.lower() for w in phrase.split() if w.lower() not in PARTICLES and w.lower() not in EVERYDAY]
    return bool(words) and all(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", known) for w in words)


def ungrounded(reply: str, known: str, request: str) -> list[str]:
    """The names, years and degrees of `reply` found in neither `known` (the colleague's CV facts) nor the
    request, each once, in order of appearance."""
    source = f"{known}\n{request}".lower()
    found: list[str] = []
    for phrase in [*_names(reply), *(m.group(0) for m in _YEAR.finditer(reply)),
                   *(m.group(0) for m in DEGREES.finditer(reply))]:
        if phrase and phrase not in found and not _grounded(phrase, source):
            found.append(phrase)
    return found


def grounded_only(reply: str, known: str, request: str) -> str:
    """The reply without the sentences that say something `ungrounded` finds (empty if none is left)."""
    kept = [s for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s and not ungrounded(s, known, request)]
    return " ".join(kept)
