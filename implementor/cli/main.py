"""The `implementor` command: one entry point, one sub-command per job.

    implementor introduce                a colleague: face.png and cv.md (embedded worker, or the stack's)
    implementor project                  the colleague's reply to a project request
    implementor worker                   a Celery worker for the stack
    implementor bot                      the Discord bot
    implementor bot sync [--guild ID]    register the slash commands now (the bot does it when they change)
    implementor feedback export          members' ratings as JSONL for `train quality`
    implementor backup OUT               a consistent copy of the bot's SQLite store, while it runs
    implementor migrate                  create or update the store's schema (PostgreSQL: once per release)
    implementor face                     a face PNG from the configured (or bundled) DCGAN
    implementor faces prepare            photo folder -> square face crops
    implementor train face               train a DCGAN on `lfw` or a folder of crops
    implementor eval face                face rate, diversity and memorisation, as JSON
    implementor corpus build             the writer's corpus of CVs and request/reply pairs, from ESCO
    implementor corpus trades            the writer's trade book: each occupation's facts for its CV prompt
    implementor train text               train the GPT-2 writer, from scratch or from a pretrained base
    implementor train adversarial        fine-tune the writer against its judge, in rounds
    implementor cv / reply               a CV for a name and title / a reply to a project request
    implementor eval text                perplexity, CV completeness, novelty, distinctness, topicality
    implementor eval sampling            sampling settings tried against a fresh judge, one JSONL row each
    implementor train realism / quality  the BERT heads that pick the best draft
    implementor eval rerank              head AUCs and the lift of reranking, by an independent judge
    implementor health bot|worker|beat   healthchecks for the stack's containers
    implementor export ctranslate2       a writer checkpoint's int8 copy for the CTranslate2 engine
    implementor harvest / learn          learn from consented channels: harvest, retrain, promote if better
    implementor models list|promote|rollback   the heads' versions, and which is live
    implementor beat                     Celery beat: a learning cycle every IMPLEMENTOR_LEARN_INTERVAL_H

Benchmarks run from a clone: `python -m bench NAME` (bench/__main__.py).

Each feature's commands live in their own module (`face_commands.py`, ...); this file wires them
into groups and turns our errors into one clear line and a non-zero exit. Heavy imports (torch)
happen inside the commands, so `--help` stays fast.
"""

from __future__ import annotations

import typer

from implementor.cli import (
    bot_commands,
    corpus_commands,
    face_commands,
    health_commands,
    learn_commands,
    rerank_commands,
    sampling_commands,
    text_commands,
    worker_commands,
)
from implementor.config import ImplementorError, get_settings, setup_logging

app = typer.Typer(
    name="implementor",
    help="The Implementor: a synthetic colleague with a DCGAN face and a GPT-2 pen.",
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold secrets (tokens, URLs with passwords); never print them in tracebacks.
    pretty_exceptions_show_locals=False,
)
faces_app = typer.Typer(help="Prepare face photos for training.", no_args_is_help=True)
train_app = typer.Typer(help="Train a model and write a checkpoint directory.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate a checkpoint and write JSON.", no_args_is_help=True)
feedback_app = typer.Typer(help="Members' ratings of the colleague's work.", no_args_is_help=True)
corpus_app = typer.Typer(help="Build the writer's training corpus.", no_args_is_help=True)
export_app = typer.Typer(help="Convert a checkpoint for a serving engine.", no_args_is_help=True)
models_app = typer.Typer(help="Versions of the retrained heads, and which one is live.", no_args_is_help=True)
health_app = typer.Typer(help="Healthchecks for the stack: one line, exit 0 when healthy.", no_args_is_help=True)

app.add_typer(faces_app, name="faces")
app.add_typer(corpus_app, name="corpus")
app.add_typer(feedback_app, name="feedback")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(health_app, name="health")
app.add_typer(export_app, name="export")
app.add_typer(models_app, name="models")
bot_app = typer.Typer(help="The Discord bot: `implementor bot` runs it.", invoke_without_command=True)
app.add_typer(bot_app, name="bot")

app.command("face")(face_commands.face)
faces_app.command("prepare")(face_commands.prepare)
train_app.command("face")(face_commands.train)
eval_app.command("face")(face_commands.evaluate)
corpus_app.command("build")(corpus_commands.corpus_build)
corpus_app.command("trades")(corpus_commands.corpus_trades)
train_app.command("text")(text_commands.train)
train_app.command("adversarial")(text_commands.train_adversarial)
eval_app.command("text")(text_commands.evaluate)
eval_app.command("sampling")(sampling_commands.evaluate_sampling)
eval_app.command("consistency")(sampling_commands.evaluate_consistency)
train_app.command("realism")(rerank_commands.train_realism)
train_app.command("quality")(rerank_commands.train_quality)
eval_app.command("rerank")(rerank_commands.evaluate)
app.command("cv")(text_commands.cv)
app.command("introduce")(worker_commands.introduce)
app.command("project")(worker_commands.project)
app.command("worker")(worker_commands.worker)
bot_app.callback(invoke_without_command=True)(bot_commands.bot)
bot_app.command("sync")(bot_commands.sync)
feedback_app.command("export")(bot_commands.export)
app.command("backup")(bot_commands.backup)
app.command("migrate")(bot_commands.migrate)
export_app.command("ctranslate2")(text_commands.export_ctranslate2)
health_app.command("bot")(health_commands.bot)
health_app.command("worker")(health_commands.worker)
health_app.command("beat")(health_commands.beat)
app.command("reply")(text_commands.reply)
app.command("harvest")(learn_commands.harvest)
app.command("learn")(learn_commands.learn)
app.command("beat")(learn_commands.beat)
models_app.command("list")(learn_commands.models_list)
models_app.command("promote")(learn_commands.models_promote)
models_app.command("rollback")(learn_commands.models_rollback)


@app.callback()
def _root() -> None:
    """Set up logging once, from settings, before any command runs."""
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)


def main() -> None:
    run(app)


def run(command: typer.Typer) -> None:
    """Run a Typer app as the command line does: our errors as one red line (exit 2), no traceback."""
    try:
        command()
    except ImplementorError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
