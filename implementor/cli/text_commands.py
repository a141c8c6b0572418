"""Commands for the writer: build the corpus, train, sample CVs and replies, evaluate.

`cv` and `reply` print raw drafts from the writer; with `--explain` they run the worker's own
`ColleaguePipeline` (the configured engine, the live heads from `store/live.py`) and print the
score table (`implementor/contracts/scores.py`) and the chosen draft. Room: `implementor`, which may use every room.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from implementor.cli.console import command_line, done
from implementor.config import get_settings
from implementor.contracts.errors import InputError

log = logging.getLogger(__name__)

DeviceOpt = Annotated[
    Literal["auto", "cpu", "cuda"] | None,
    typer.Option("--device", help="Where to run. Default: IMPLEMENTOR_DEVICE (auto)."),
]
WriterOpt = Annotated[
    Path | None,
    typer.Option("--model", help="Writer checkpoint directory. Default: IMPLEMENTOR_WRITER_MODEL, else bundled."),
]


LossOpt = Annotated[Literal["completion", "all"], typer.Option(
    help="--base: learn each example's CV or reply only (its prompt is read, not learned), or all of it.")]


def train(
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write.")],
    data: Annotated[Path | None, typer.Option(help="Corpus directory; default: the bundled one.")] = None,
    base: Annotated[str | None, typer.Option(help="Fine-tune this pretrained model with LoRA: `smollm2` (the "
                                                  "packaged SmolLM2-135M-Instruct), a hub name (gpt2) or a "
                                                  "directory. The checkpoint holds only the adapter.")] = None,
    from_scratch: Annotated[bool, typer.Option("--from-scratch", help="New tokenizer and GPT-2 of --size.")] = False,
    size: Annotated[Literal["tiny", "small"], typer.Option(help="Model size when training from scratch.")] = "tiny",
    steps: Annotated[int, typer.Option(help="--base: optimiser steps.")] = 400,
    lora_r: Annotated[int, typer.Option(help="--base: LoRA rank.")] = 16,
    lora_layers: Annotated[int | None, typer.Option(help="--base: adapt only the top N layers (default all).")] = None,
    block_size: Annotated[int, typer.Option(help="--base: tokens per block.")] = 256,
    eval_every: Annotated[int, typer.Option(help="--base: validate and save every N steps.")] = 25,
    epochs: Annotated[int, typer.Option(help="--from-scratch: at most this many epochs.")] = 8,
    batch_size: Annotated[int, typer.Option(help="Blocks per step.")] = 8,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate. Default: 1e-3 scratch, 3e-4 LoRA.")] = None,
    patience: Annotated[int, typer.Option(help="--from-scratch: stop after this many epochs without a better "
                                               "validation loss.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and batch order.")] = 0,
    device: DeviceOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last save.")] = False,
    init: Annotated[Path | None, typer.Option(help="--base: go on from this adapter checkpoint (its base, LoRA "
                                                   "settings and weights), on this run's corpus.")] = None,
    loss_on: LossOpt = "completion",
) -> None:
    """Train the writer: LoRA on a pretrained base (the default way), or a GPT-2 from scratch."""
    from implementor.models.writer.adapter import is_adapter_checkpoint
    from implementor.training.corpus.splits import BUNDLED_CORPUS

    device = device or get_settings().device
    if base is not None and from_scratch:
        raise InputError("choose one: --from-scratch (with --size) or --base NAME_OR_DIR")
    if base is not None or init is not None or (resume and is_adapter_checkpoint(out)):
        from implementor.training.writer.finetune import FineTuneConfig, FineTuneSpec, finetune

        config = FineTuneConfig(steps=steps, batch_size=batch_size, block_size=block_size, lr=lr or 3e-4,
                                eval_every=eval_every, seed=seed, device=device, loss_on=loss_on)
        card = finetune(FineTuneSpec(out, base or "smollm2", data or BUNDLED_CORPUS, lora_r, lora_layers, config,
                                     resume, command_line(), init))
    else:
        from implementor.training.writer.train import TextTrainConfig, WriterTrainSpec, run_writer_training
        if epochs < 1 or batch_size < 1 or patience < 1:
            raise InputError("--epochs, --batch-size and --patience must be positive")
        text_config = TextTrainConfig(epochs=epochs, batch_size=batch_size, patience=patience, seed=seed,
                                      lr=lr or 1e-3, device=device)
        spec = WriterTrainSpec(out, data or BUNDLED_CORPUS, size if from_scratch else None, None, text_config,
                               resume, command_line())
        card = run_writer_training(spec)
    typer.echo(json.dumps(card["metrics"], indent=2))
    done("writer checkpoint written", out)


def train_adversarial(
    writer: Annotated[Path, typer.Option(help="The writer to start from (a checkpoint directory).")],
    out: Annotated[Path, typer.Option(help="Run directory: rounds, the final writer/ and realism/.")],
    realism: Annotated[Path | None, typer.Option(help="The judge of round 1's drafts. Default: a fresh "
                                                      "discriminator against the starting writer.")] = None,
    quality: Annotated[Path | None, typer.Option(help="Quality head. Default: IMPLEMENTOR_QUALITY_MODEL.")] = None,
    data: Annotated[Path | None, typer.Option(help="Corpus directory. Default: the bundled one.")] = None,
    rounds: Annotated[int, typer.Option(help="At most this many rounds.")] = 4,
    prompts: Annotated[int, typer.Option(help="Training prompts per task drafted each round.")] = 200,
    target_auc: Annotated[float, typer.Option(help="Stop when a fresh discriminator's AUC is at most this.")] = 0.75,
    lr: Annotated[float, typer.Option(help="Learning rate of each round's fine-tuning.")] = 1e-4,
    seed: Annotated[int, typer.Option(help="Seed for prompts, drafts and discriminators.")] = 0,
    device: DeviceOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out after its last finished round.")] = False,
) -> None:
    """Fine-tune the writer against its judge in rounds until a fresh BERT discriminator can no longer tell."""
    from implementor.training.adversarial.rounds import AdversarialSpec, run_adversarial
    from implementor.training.corpus.splits import BUNDLED_CORPUS

    settings = get_settings()
    spec = AdversarialSpec(writer=writer, out=out, realism=realism, quality=quality or settings.quality_model,
                           corpus=data or BUNDLED_CORPUS, rounds=rounds, prompts_per_task=prompts,
                           target_auc=target_auc, lr=lr, seed=seed, device=device or settings.device,
                           encoder=settings.encoder, resume=resume, command=command_line())
    record = run_adversarial(spec)
    typer.echo(json.dumps(record["rounds"], indent=2))
    done("adversarial rounds written (rounds.jsonl, rounds.png; the final writer/ and realism/)", out)


def export_ctranslate2(
    checkpoint: Annotated[Path, typer.Argument(help="Writer checkpoint directory (trained here or elsewhere).")],
    force: Annotated[bool, typer.Option(help="Convert again if a converted copy exists.")] = False,
) -> None:
    """Add the int8 copy CTranslate2 runs (CPU int8, CUDA int8_float16) to a writer checkpoint."""
    from implementor.models.writer.ct2_file import export_ctranslate2 as export

    record = export(checkpoint, force=force)
    typer.echo(json.dumps(record, indent=2))
    done("converted copy written (the card records its sha256)", checkpoint / "ctranslate2")


TemperatureOpt = Annotated[float | None, typer.Option(help="Sampling temperature. Default: the model card's.")]
TopKOpt = Annotated[int | None, typer.Option(help="Sample from the k likeliest tokens. Default: the card's.")]


def _print_drafts(drafts: list[str], render: Callable[[str], str]) -> None:
    for i, text in enumerate(drafts, 1):
        if len(drafts) > 1:
            typer.secho(f"--- candidate {i}/{len(drafts)} ---", fg=typer.colors.CYAN)
        typer.echo(render(text))


NOpt = Annotated[int | None, typer.Option("--n", help="Candidates to print (1), or to rerank with --explain "
                                                   "(IMPLEMENTOR_CANDIDATES).")]
ExplainOpt = Annotated[bool, typer.Option(help="Draft and rerank as a worker does (its engine, the live BERT heads) "
                                                "and print the candidates' scores.")]


def explain_pipeline(settings: Any, model: Path | None, device: str | None, candidates: int | None) -> Any:
    """The pipeline a worker with these settings serves (`workers.model_set.pipeline_spec`: its writer engine,
    the live heads and their threshold), with this command's writer, device and number of drafts, so that
    `--explain` drafts and judges as the bot's replies are drafted and judged; it never explores."""
    from dataclasses import replace

    from implementor.models.pipeline import ColleaguePipeline
    from implementor.workers.model_set import pipeline_spec

    spec = replace(pipeline_spec(settings), writer=model or settings.writer_model, device=device or settings.device,
                   candidates=candidates, explore=0.0)
    return ColleaguePipeline.load(spec)


def _explain(pipeline: Any, task: Literal["cv", "reply"], inputs: tuple[str, ...], seed: int | None,
             sampling: Any, render: Callable[[str], str]) -> None:
    """Draft and rerank through the pipeline, print the score table and the chosen draft."""
    from dataclasses import replace

    live = replace(pipeline.writer.sampling, **{task: sampling})
    if live != pipeline.writer.sampling:  # the pipeline checked the writer's own sampling when it loaded
        pipeline.reranker.check_sampling(live)
    if task == "cv":
        ranked = pipeline.write_cvs([(inputs[0], inputs[1])], {}, seed, sampling)[0]
    else:
        ranked = pipeline.answer([(inputs[0], None)], {}, seed, sampling)[0].ranked
    typer.echo(ranked.table())
    typer.secho(f"\n--- chosen: #{ranked.index + 1}{' (low confidence)' if ranked.low_confidence else ''} ---",
                fg=typer.colors.CYAN)
    typer.echo(render(ranked.text))


def cv(
    name: Annotated[str, typer.Option(help="The colleague's name.")],
    title: Annotated[str, typer.Option(help="Their job title.")],
    n: NOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed for sampling; the same seed gives the same CV.")] = None,
    temperature: TemperatureOpt = None,
    top_k: TopKOpt = None,
    explain: ExplainOpt = False,
    model: WriterOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Write a CV for a named colleague with a job title."""
    from implementor.contracts.cv import render_cv

    name, title = " ".join(name.split()), " ".join(title.split())
    if not name or not title:
        raise InputError(f"the {'name' if not name else 'title'} is empty")
    render = lambda body: render_cv(name, title, body)  # noqa: E731
    _draft("cv", (name, title), render, n, seed, temperature, top_k, explain, model, device)


def reply(
    request: Annotated[str, typer.Argument(help="A colleague's request for help with a piece of work.")],
    n: NOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed for sampling; the same seed gives the same reply.")] = None,
    temperature: TemperatureOpt = None,
    top_k: TopKOpt = None,
    explain: ExplainOpt = False,
    model: WriterOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Answer a project request the way a consultant colleague would."""
    _draft("reply", (" ".join(request.split()),), lambda text: text, n, seed, temperature, top_k, explain, model,
           device)


def _draft(task: Literal["cv", "reply"], inputs: tuple[str, ...], render: Callable[[str], str], n: int | None,
           seed: int | None, temperature: float | None, top_k: int | None, explain: bool, model: Path | None,
           device: str | None) -> None:
    """What `cv` and `reply` share: load the writer (in the worker's pipeline with --explain), then print
    the drafts, or rerank them and print why one was chosen."""
    from implementor.models.writer.drafts import draft_cv, draft_replies, with_overrides
    from implementor.models.writer.model import Writer

    settings = get_settings()
    count = n or (settings.candidates if explain else 1)  # --explain: None is the card's number, per task
    pipeline = explain_pipeline(settings, model, device, count) if explain else None
    writer = pipeline.writer if pipeline else Writer.load(model or settings.writer_model, device or settings.device)
    sampling = with_overrides(getattr(writer.sampling, task), temperature=temperature, top_k=top_k)
    if pipeline is not None:
        _explain(pipeline, task, inputs, seed, sampling, render)
    elif task == "cv":
        _print_drafts(draft_cv(writer, inputs[0], inputs[1], count or 1, seed, sampling), render)
    else:
        _print_drafts(draft_replies(writer, inputs[0], count or 1, seed, sampling), render)


def evaluate(
    checkpoint: Annotated[Path | None, typer.Argument(help="Writer checkpoint. Default: the bundled one.")] = None,
    data: Annotated[Path | None, typer.Option(help="Corpus with a test split. Default: the bundled corpus.")] = None,
    out: Annotated[Path | None, typer.Option(help="JSON to write. Default: CHECKPOINT/eval_text.json.")] = None,
    cv_prompts: Annotated[int, typer.Option(help="CV prompts (x4 candidates each).")] = 50,
    reply_prompts: Annotated[int, typer.Option(help="Reply prompts (x8 candidates each).")] = 25,
    record: Annotated[bool, typer.Option(help="Also record the figures in the checkpoint's card.json.")] = False,
    perplexity: Annotated[bool, typer.Option(help="Measure held-out perplexity (minutes on a CPU; sampling "
                                                  "settings do not change it).")] = True,
    device: DeviceOpt = None,
) -> None:
    """Perplexity against a unigram baseline, CV completeness, novelty, distinctness and topicality."""
    from implementor.models.common.checkpoint import CARD_FILE, read_json, write_json
    from implementor.models.writer.model import BUNDLED_WRITER, Writer
    from implementor.training.writer.eval import TextEvalSpec, evaluate_writer

    if cv_prompts < 1 or reply_prompts < 1:
        raise InputError("--cv-prompts and --reply-prompts must be positive")
    from implementor.training.corpus.splits import BUNDLED_CORPUS

    checkpoint = checkpoint or BUNDLED_WRITER
    writer = Writer.load(checkpoint, device or get_settings().device)
    corpus = data or BUNDLED_CORPUS
    from implementor.models.writer.engine_choice import load_engine

    spec = TextEvalSpec(cv_prompts=cv_prompts, reply_prompts=reply_prompts, perplexity=perplexity)
    engine = load_engine(writer, get_settings().writer_engine)
    report = {"checkpoint": str(checkpoint), "corpus": str(corpus),
              **evaluate_writer(writer, corpus, spec, engine=engine)}
    out = out or checkpoint / "eval_text.json"
    write_json(out, report)
    if record:
        card = read_json(checkpoint / CARD_FILE, "model card")
        summary = {k: v for k, v in report.items() if k not in ("checkpoint", "examples")}
        card.setdefault("metrics", {})["eval"] = {**summary, "command": command_line()}
        write_json(checkpoint / CARD_FILE, card)
    typer.echo(json.dumps({k: v for k, v in report.items() if k != "examples"}, indent=2))
    done(f"evaluation written ({'meets' if report['passed'] else 'misses'} the bundled-model bars)", out)
