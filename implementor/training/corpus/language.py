"""Small English rewrites that turn ESCO's dictionary prose into a person's own words.

ESCO writes about occupations in the third person plural ("Web developers develop ... They align
...") and about skills in the imperative ("Develop design plans ..."). A CV speaks in the first
person, about the present ("I develop ...") and the past ("Developed design plans ..."). These
rules cover the patterns ESCO uses; they are deliberately simple and never invent content.
"""

from __future__ import annotations

import re

# Irregular past tenses of verbs that start ESCO skill descriptions.
_IRREGULAR = {
    "be": "was", "become": "became", "begin": "began", "bind": "bound", "bleed": "bled", "blow": "blew",
    "breed": "bred", "bring": "brought", "broadcast": "broadcast", "build": "built", "buy": "bought",
    "catch": "caught", "choose": "chose", "cut": "cut", "deal": "dealt", "dig": "dug", "do": "did",
    "draw": "drew", "drive": "drove", "eat": "ate", "feed": "fed", "feel": "felt", "fight": "fought",
    "find": "found", "fly": "flew", "forecast": "forecast", "foresee": "foresaw", "forgive": "forgave",
    "freeze": "froze", "get": "got", "give": "gave", "go": "went", "grind": "ground", "grow": "grew",
    "hang": "hung", "have": "had", "hear": "heard", "hide": "hid", "hit": "hit", "hold": "held",
    "hurt": "hurt", "keep": "kept", "know": "knew", "lay": "laid", "lead": "led", "leave": "left",
    "lend": "lent", "let": "let", "light": "lit", "lose": "lost", "make": "made", "mean": "meant",
    "meet": "met", "mislead": "misled", "oversee": "oversaw", "overcome": "overcame", "pay": "paid",
    "put": "put", "quit": "quit", "read": "read", "rebuild": "rebuilt", "redo": "redid", "rewrite": "rewrote",
    "ride": "rode", "ring": "rang", "rise": "rose", "run": "ran", "say": "said", "see": "saw", "seek": "sought",
    "sell": "sold", "send": "sent", "set": "set", "sew": "sewed", "shake": "shook", "shed": "shed",
    "shoot": "shot", "show": "showed", "shut": "shut", "sing": "sang", "sink": "sank", "sit": "sat",
    "sleep": "slept", "slide": "slid", "speak": "spoke", "spend": "spent", "spin": "spun", "split": "split",
    "spread": "spread", "stand": "stood", "steal": "stole", "stick": "stuck", "strike": "struck",
    "sweep": "swept", "swim": "swam", "swing": "swung", "take": "took", "teach": "taught", "tear": "tore",
    "tell": "told", "think": "thought", "throw": "threw", "undergo": "underwent", "understand": "understood",
    "undertake": "undertook", "uphold": "upheld", "upset": "upset", "wake": "woke", "wear": "wore",
    "weave": "wove", "win": "won", "wind": "wound", "withdraw": "withdrew", "withstand": "withstood",
    "write": "wrote",
}
# One-syllable (and a few stressed-final) verbs that double their last consonant: plan -> planned.
_DOUBLING = {
    "ban", "blog", "chop", "clip", "commit", "control", "dip", "drag", "drop", "equip", "fit", "grab", "hem",
    "jog", "knit", "label", "log", "map", "model", "mop", "occur", "patrol", "pin", "plan", "plug", "prefer",
    "refer", "regret", "rub", "scan", "ship", "shop", "signal", "skim", "slam", "spot", "step", "stir", "stop",
    "strip", "submit", "tag", "tap", "transfer", "trap", "travel", "trim", "wrap", "admit", "cancel", "fuel",
    "excel", "compel", "propel", "dispel", "rebel", "sum", "tan", "rip", "zip", "pad", "prop", "top",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def past_tense(verb: str) -> str:
    """English simple past of a base-form verb ("develop" -> "developed", "plan" -> "planned")."""
    lower = verb.lower()
    if lower in _IRREGULAR:
        past = _IRREGULAR[lower]
    elif lower in _DOUBLING:
        past = lower + lower[-1] + "ed"
    elif lower.endswith("e"):
        past = lower + "d"
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        past = lower[:-1] + "ied"
    elif lower.endswith("c"):
        past = lower + "ked"  # panic -> panicked
    else:
        past = lower + "ed"
    return past.capitalize() if verb[:1].isupper() else past


def sentences(text: str) -> list[str]:
    """Split prose into sentences at a full stop followed by a capital letter."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def first_sentence(text: str, max_words: int = 30) -> str:
    """The first sentence, shortened at a clause boundary if it runs past `max_words`."""
    sentence = sentences(text)[0].rstrip(".!? ")
    words = sentence.split()
    if len(words) > max_words:
        cut = " ".join(words[:max_words])
        for mark in (";", ","):
            if mark in cut:
                cut = cut[: cut.rindex(mark)]
                break
        sentence = cut
    return sentence.rstrip(",;: ") + "."


def _past_keeping_comma(word: str) -> str:
    return past_tense(word.rstrip(",")) + ("," if word.endswith(",") else "")


def imperative_to_past(description: str, max_words: int = 30) -> str:
    """ "Clean and maintain stalls, ..." -> "Cleaned and maintained stalls, ..." (first sentence only)."""
    words = first_sentence(description, max_words).split()
    # "Correctly evaluate ...": an adverb first, then the verb.
    i = 1 if words[0].lower().endswith("ly") and len(words) > 1 else 0
    words[i] = _past_keeping_comma(words[i])
    # Coordinated verbs at the start: "Clean and maintain", "Assess, manage, and report".
    for _ in range(4):
        if i + 1 >= len(words):
            break
        if words[i + 1] == "and":
            following = i + 2
        elif words[i].endswith(","):
            following = i + 1
        else:
            break
        if following >= len(words):
            break
        words[following] = _past_keeping_comma(words[following])
        if words[following - 1] == "and":
            break
        i = following
    return " ".join(words)


def _as_first_person(sentence: str, subject_words: int | None) -> str | None:
    """One ESCO sentence in the first person, or None if it is not about the workers themselves."""
    words = sentence.split()
    if subject_words is not None:
        rest = words[subject_words:]
    elif words[0] == "They":
        rest = words[1:]
    elif words[0] == "Their":
        return "My " + " ".join(words[1:])
    else:
        return None
    if not rest:
        return None
    verb = {"are": "am", "were": "was", "also": "also"}.get(rest[0], rest[0])
    text = " ".join(["I", verb, *rest[1:]])
    return text.replace(" themselves", " myself").replace(" their own ", " my own ")


def occupation_in_first_person(label: str, description: str, max_sentences: int = 3) -> list[str]:
    """ESCO's occupation description, sentence by sentence, as the worker would say it."""
    out = []
    for i, sentence in enumerate(sentences(description)):
        converted = _as_first_person(sentence, len(label.split()) if i == 0 else None)
        if converted:
            out.append(converted.rstrip(".") + ".")
        if len(out) == max_sentences:
            break
    return out


def title_case(label: str) -> str:
    """ "ict network engineer" -> "ICT Network Engineer"; short function words stay lower case."""
    small = {"and", "of", "in", "for", "the", "a", "an", "on", "to", "with", "or"}
    acronyms = {"ict", "hr", "it", "ux", "ui", "cad", "cnc", "hvac", "gis", "seo", "qa", "ai", "3d", "pr", "tv"}
    words = []
    for i, word in enumerate(label.split()):
        if word in acronyms:
            words.append(word.upper())
        elif i > 0 and word in small:
            words.append(word)
        else:
            words.append(word[:1].upper() + word[1:])
    return " ".join(words)


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("ICT", "CAD")."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() and len(first) > 1 else text[:1].lower() + text[1:]
