"""The architecture, checked: rooms import only the rooms below them, no import loops, serving never reaches
training, the bot side stays torch-free, small modules, and each table has one owner.

The rooms of the one package, `implementor` (each may import those it names in ROOMS, never the others):

    contracts -> config -> store (torch-free: the shared database and the files beside it)
    contracts + config -> models (serving: common <- writer <- rerank <- pipeline, and face <- pipeline)
    models -> training (corpus, fine-tuning, rounds, heads, evaluation)
    models + store -> workers;   training + store -> learning (its Celery tasks: workers/learn_tasks.py)
    store -> bot (never torch, models or workers);   cli: all

Each table of the shared database is made by the migrations (`store/migrations.py`) and named in SQL only by
its family.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = "implementor"
P = PACKAGE + "."
MODEL_ROOMS = {P + r for r in ("models", "models.common", "models.face", "models.writer", "models.rerank",
                               "models.pipeline")}
BASE = {P + "contracts", P + "config"}
ROOMS = {  # room -> rooms it may import (itself always allowed)
    P + "contracts": set(),
    P + "config": {P + "contracts"},
    P + "store": BASE,
    P + "models": BASE,  # models/__init__.py: the bundled folder
    P + "models.common": BASE | {P + "models"},
    P + "models.face": BASE | {P + "models", P + "models.common"},
    P + "models.writer": BASE | {P + "models", P + "models.common"},
    P + "models.rerank": BASE | {P + "models", P + "models.common", P + "models.writer"},
    P + "models.pipeline": BASE | {P + "models", P + "models.common", P + "models.face", P + "models.writer",
                                   P + "models.rerank"},
    P + "training": BASE | MODEL_ROOMS,
    P + "workers": BASE | MODEL_ROOMS | {P + "store"},
    P + "learning": BASE | MODEL_ROOMS | {P + "store", P + "training"},
    P + "bot": BASE | {P + "store"},
}
# The learner's Celery tasks are the one place a worker module reaches the learner's room.
LEARNER_TASKS = P + "workers.learn_tasks"
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 50
EXEMPT = "# size:"  # a comment on a def line (or in a module's first line) that says why it is longer


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
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


def test_every_import_points_down() -> None:
    wrong = []
    for name in modules():
        room = room_of(name)
        if room is None:
            continue  # the package's root and the command line may use everything
        for target in imports_of(name):
            target_room = room_of(target)
            if name == LEARNER_TASKS and target_room == P + "learning":
                continue
            if target_room != room and target_room not in ROOMS[room]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def reach(name: str, seen: set[str]) -> set[str]:
    for target in imports_of(name):
        if target not in seen:
            seen.add(target)
            reach(target, seen)
    return seen


def test_serving_never_reaches_training() -> None:
    """Not even through another room: what a worker loads to answer jobs stays apart from training."""
    serving = [n for n in modules() if n.startswith(P + "models")]
    wrong = {n: sorted(t for t in reach(n, set()) if t.startswith(P + "training")) for n in serving}
    assert not {n: t for n, t in wrong.items() if t}


def test_no_import_loops() -> None:
    """No two modules of ours import each other, directly or around a loop, even inside a function
    (Tarjan's strongly connected components over every import statement the AST holds)."""
    graph = {name: sorted(t for t in imports_of(name) if t != name) for name in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(node: str) -> None:  # recursion is fine: the graph has about 150 nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert not loops, loops


def test_no_third_party_model_code_on_the_bot_side() -> None:
    """The bot's image has no torch: nothing it imports may pull in torch, transformers, models or workers."""
    bot_side = [n for n in modules() if n.startswith((P + "bot", P + "contracts", P + "config", P + "store"))]
    code = (f"import sys; import {', '.join(bot_side)}; "
            f"bad = [m for m in ('torch', 'transformers', '{P}models', '{P}workers', '{P}training') "
            "if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=ROOT)


def sources() -> dict[str, Path]:
    """The package and the benchmarks (the tests' fakes may grow as large as the API they stand in for)."""
    found = dict(modules())
    for folder in ("bench",):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found[str(path.relative_to(ROOT))] = path
    return found


def test_modules_and_functions_stay_small() -> None:
    """A module over about 300 lines is usually two; a function over about 50 lines too (house style)."""
    long = []
    for name, path in sources().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES and EXEMPT not in lines[0]:
            long.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if size > MAX_FUNCTION_LINES and EXEMPT not in lines[node.lineno - 1]:
                    long.append(f"{name}.{node.name}: {size} lines")
    assert not long, "\n".join(long)


def test_the_layout_names_every_room() -> None:
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    rooms = sorted({".".join(name.split(".")[:2]) for name in modules() if modules()[name].name == "__init__.py"
                    and name.count(".") == 1})
    for room in [*rooms, "tests", "bench"]:
        path = room.replace(".", "/") + "/"
        assert f"`{path}`" in layout, path


MIGRATIONS = "implementor/store/migrations.py"
TABLES = {  # table -> every module that may name it in SQL besides the migrations, which make them all
    "colleagues": {"implementor/store/database.py"},
    "meta": {"implementor/store/database.py"},
    "servers": {"implementor/store/servers.py"},
    "jobs": {"implementor/store/jobbook.py", "implementor/store/replies.py"},
    "feedback": {"implementor/store/database.py", "implementor/store/replies.py"},
    "leases": {"implementor/store/leases.py"},
    "schema_version": set(),
    "preferences": {"implementor/store/preferences.py"},
    **{f"learning_{name}": {"implementor/store/consent.py"} for name in ("channels", "log", "optouts", "cursors")},
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
    assert made == {table: [MIGRATIONS] for table in TABLES}
    strangers = {table: sorted(where - TABLES[table] - {MIGRATIONS}) for table, where in named.items()
                 if table in TABLES}
    assert not {table: where for table, where in strangers.items() if where}, strangers
