"""The architecture, checked: who may import whom, serving never imports training, and small modules.

The rooms, bottom up (each may import the ones before it, never one after it):

    contracts -> config -> models.common -> models.corpus -> models.writer -> models.rerank -> models.pipeline
                                        \\-> models.face ------------------------------------/   \\-> models.adversarial
    contracts + config -> learning.storage (the torch-free part of learning) -> bot (never torch, never
    models or workers);   contracts + config + models + learning.storage -> learning;
    models + learning -> workers;   implementor, bench: all

Within models, a serving module (what a worker loads to answer jobs) never imports a training one
(training loops, evaluation, building data), not even lazily inside a function.

Each table of the bot's SQLite file is made by one module and named in SQL only by its family: the
roster and notes by the bot's store, consent and harvest cursors by `learning/storage/consent.py`, and the
`jobs` and `feedback` tables, which the learner reads too, by `learning/storage/bot_tables.py` (their schema
and the learner's query) with the job book and the bot's store (the bot's queries).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("contracts", "config", "models", "learning", "workers", "bot", "implementor", "bench")
MODEL_ROOMS = {"models", "models.common", "models.corpus", "models.face", "models.writer", "models.rerank",
               "models.pipeline"}
ROOMS = {  # room -> rooms it may import (itself always allowed)
    "contracts": set(),
    "config": {"contracts"},
    "models": {"contracts", "config"},  # models/__init__.py: the bundled folder
    "models.common": {"contracts", "config", "models"},
    "models.corpus": {"contracts", "config", "models", "models.common"},
    "models.face": {"contracts", "config", "models", "models.common"},
    "models.writer": {"contracts", "config", "models", "models.common", "models.corpus"},
    "models.rerank": {"contracts", "config", "models", "models.common", "models.corpus", "models.writer"},
    "models.pipeline": {"contracts", "config", "models", "models.common", "models.face", "models.writer",
                        "models.rerank"},
    "models.adversarial": {"contracts", "config", "models", "models.common", "models.corpus", "models.writer",
                           "models.rerank"},
    # What the bot and the workers may take from `learning`: the SQLite file and its tables, consent,
    # the harvested sets, versions and the model cards (torch-free).
    "learning.storage": {"contracts", "config"},
    "learning": {"contracts", "config", *MODEL_ROOMS, "learning.storage"},
    "workers": {"contracts", "config", *MODEL_ROOMS, "learning", "learning.storage"},
    "bot": {"contracts", "config", "learning.storage"},
}
TRAINING = {"train", "eval", "build", "compose", "language", "esco", "data", "detect", "prepare", "examples",
            "realism_data", "quality_data", "plots", "metrics", "adversarial", "train_state", "character",
            "calibration", "finetune"}
# (export.py converts a writer for CTranslate2: serving does it too, when a fine-tuned base's cache is built.)
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 50
EXEMPT = "# size:"  # a comment on a def line (or in a module's first line) that says why it is longer


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module of ours that `name` imports, at the top or inside a function."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    ours = modules()
    return frozenset(m for m in found if m in ours)


def room_of(name: str) -> str | None:
    for room in sorted(ROOMS, key=len, reverse=True):
        if name == room or name.startswith(room + "."):
            return room
    return None


def is_training(name: str) -> bool:
    return name.startswith("models.adversarial") or (name.startswith("models.") and name.rsplit(".", 1)[-1] in TRAINING)


def test_every_import_points_down() -> None:
    wrong = []
    for name in modules():
        room = room_of(name)
        if room is None:
            continue  # implementor and bench may use everything
        for target in imports_of(name):
            target_room = room_of(target)
            if target_room not in (room, None) and target_room not in ROOMS[room]:
                wrong.append(f"{name} imports {target}")
            if target.split(".")[0] in ("implementor", "bench"):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_bot_and_workers_take_only_the_torch_free_part_of_learning() -> None:
    wrong = [f"{name} imports {target}" for name in modules() if name.startswith(("bot", "workers"))
             for target in imports_of(name) if room_of(target) == "learning"
             and not (name == "workers.learn_tasks")]  # the learner's tasks run the harvest and retraining
    assert not wrong, "\n".join(wrong)


def test_serving_never_imports_training() -> None:
    def reach(name: str, seen: set[str]) -> set[str]:
        for target in imports_of(name):
            if target not in seen:
                seen.add(target)
                reach(target, seen)
        return seen

    serving = [n for n in modules() if n.startswith("models.") and not is_training(n)]
    wrong = {n: sorted(t for t in reach(n, set()) if is_training(t)) for n in serving}
    assert not {n: t for n, t in wrong.items() if t}


def test_no_third_party_model_code_on_the_bot_side() -> None:
    """The bot's image has no torch: nothing it imports may pull in torch, transformers or models."""
    bot_modules = [n for n in modules() if n.startswith(("bot", "contracts", "learning.storage"))]
    code = (f"import sys; import {', '.join(bot_modules)}; "
            "bad = [m for m in ('torch', 'transformers', 'models', 'workers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_and_functions_stay_small(package: str) -> None:
    """A module over about 300 lines is usually two; a function over about 50 lines too (house style)."""
    long = []
    for name, path in modules().items():
        if not name.startswith(package):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES and EXEMPT not in lines[0]:
            long.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if size > MAX_FUNCTION_LINES and EXEMPT not in lines[node.lineno - 1]:
                    long.append(f"{name}.{node.name}: {size} lines")
    assert not long, "\n".join(long)


def test_the_readme_layout_table_names_every_room() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    for room in ("contracts/", "config/", "models/common/", "models/corpus/", "models/face/", "models/writer/",
                 "models/rerank/", "learning/storage/", "learning/", "workers/", "bot/", "implementor/", "tests/",
                 "bench/"):
        assert f"`{room}`" in layout, room


TABLES = {  # table -> the module that makes it, and every module that may name it in SQL (its family)
    "colleagues": ("bot/store.py", {"bot/store.py"}),
    "meta": ("bot/store.py", {"bot/store.py"}),
    "jobs": ("learning/storage/bot_tables.py", {"learning/storage/bot_tables.py", "bot/jobbook.py"}),
    "feedback": ("learning/storage/bot_tables.py", {"learning/storage/bot_tables.py", "bot/store.py"}),
    **{f"learning_{name}": ("learning/storage/consent.py", {"learning/storage/consent.py"})
       for name in ("channels", "log", "optouts", "cursors")},
}


def test_each_table_is_made_once_and_named_in_sql_only_by_its_family() -> None:
    made: dict[str, list[str]] = {}
    named: dict[str, set[str]] = {}
    for path in modules().values():
        source, where = path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        for table in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", source):
            made.setdefault(table, []).append(where)
        for table in re.findall(r"\b(?:FROM|JOIN|INTO|UPDATE|EXISTS)\s+(\w+)\b", source):
            named.setdefault(table, set()).add(where)
    assert made == {table: [maker] for table, (maker, _) in TABLES.items()}
    strangers = {table: sorted(where - TABLES[table][1]) for table, where in named.items() if table in TABLES}
    assert not {table: where for table, where in strangers.items() if where}, strangers
