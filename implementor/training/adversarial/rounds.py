"""`implementor train adversarial`: rounds of drafting, judging and fine-tuning, guarded, logged and resumable.

Round 0 measures the starting writer: a fresh discriminator's AUC against its drafts, its held-out
perplexity on real text, its drafts' distinctness. Each round k then (see `steps.py`):
1. drafts for training-split prompts with the live settings;
2. scores the drafts with round k-1's discriminator and the quality head;
3. fine-tunes the writer on the best sane draft per prompt, mixed with real texts;
4. trains a fresh discriminator against the new writer's drafts of held-out prompts.
Guards: a round whose drafts lose their variety (distinct-2 below `min_distinct`) or whose writer
drifts from real language (held-out perplexity more than `max_ppl_rise` above round 0's) is rolled
back, with its reason logged. Rounds stop when the fresh discriminator's AUC reaches `target_auc`
for both tasks, or has not improved for `patience` rounds. `rounds.jsonl` and `rounds.png` record
every round; `state.json` lets `resume` continue after the last finished one; `writer/` and
`realism/` hold the last accepted writer and its discriminator, each with a card that tells the chain.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from implementor.contracts.errors import InputError
from implementor.contracts.records import CVRecord, PairRecord, Record
from implementor.models.common.checkpoint import CARD_FILE, read_json, write_json
from implementor.models.common.encoder import MINILM, SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.models.rerank.reranker import BUNDLED_QUALITY
from implementor.models.writer.adapter import is_adapter_checkpoint
from implementor.models.writer.ct2_file import export_ctranslate2
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.model import Writer
from implementor.training.adversarial import steps
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split
from implementor.training.plots import Panel, plot_panels
from implementor.training.writer.train import TextTrainConfig, encode, mean_loss, pack, train_text

log = logging.getLogger(__name__)

METHOD = ("rejection-sampling fine-tuning: per prompt the sane draft the judges like best, mixed 1:1 with real "
          "texts, one epoch at a low learning rate (see implementor/training/adversarial/steps.py for why not DPO)")

PPL_BLOCK, PPL_BLOCKS = 512, 96  # about 49k held-out tokens


@dataclass(frozen=True)
class AdversarialSpec:
    writer: Path
    out: Path
    realism: Path | None = None  # the judge of round 1's drafts; None: a fresh one against the starting writer
    quality: Path | None = None  # None: the bundled quality head
    corpus: Path = BUNDLED_CORPUS
    rounds: int = 4
    prompts_per_task: int = 200  # training prompts drafted per round, per task
    probe_per_task: int = 60  # held-out prompts for the guards and the fresh discriminator, per task
    candidates: int = 8
    target_auc: float = 0.75
    patience: int = 2
    lr: float = 1e-4
    min_distinct: float = 0.5
    max_ppl_rise: float = 0.10
    encoder: str = MINILM
    device: str = "cpu"
    seed: int = 0
    resume: bool = False
    command: str = ""


def _pick(records: list[Record], per_task: int, rng: random.Random) -> list[Record]:
    cvs = [r for r in records if isinstance(r, CVRecord)]
    pairs = [r for r in records if isinstance(r, PairRecord)]
    return rng.sample(cvs, min(per_task, len(cvs))) + rng.sample(pairs, min(per_task, len(pairs)))


def _loaded(path: Path, device: str) -> tuple[Writer, Any]:
    writer = Writer.load(path, device)  # an adapter's engine copies are built into the cache
    if not is_adapter_checkpoint(path) and not (path / "ctranslate2" / "model.bin").exists():
        export_ctranslate2(path, force=True)
        writer = Writer.load(path, device)
    return writer, load_engine(writer, "auto")


class Rounds:
    def __init__(self, spec: AdversarialSpec) -> None:
        self.spec = spec
        self.encoder = SentenceEncoder.load(spec.encoder, spec.device)
        self.quality = PairScorer.load(spec.quality or BUNDLED_QUALITY, self.encoder, "quality", spec.device)
        self.train_split = load_split(spec.corpus, "train")
        self.validation = load_split(spec.corpus, "validation")
        self.probe = _pick(self.validation, spec.probe_per_task, random.Random(spec.seed))
        self.state_path = spec.out / "state.json"

    def held_out_perplexity(self, writer: Writer) -> float:
        """On the same validation blocks every round (at most PPL_BLOCKS of PPL_BLOCK tokens: a guard, not a report)."""
        blocks = pack(encode(self.validation, writer.tokenizer, writer.format), min(writer.context, PPL_BLOCK))
        return math.exp(mean_loss(writer.model, blocks[:PPL_BLOCKS], 8, writer.device))

    def measure(self, writer: Writer, engine: Any, round_: int, judge_dir: Path) -> dict[str, Any]:
        """The fresh discriminator's AUC, and the guards' measures, for a writer on the held-out probe."""
        drafted = steps.draft(writer, engine, self.probe, 4, self.spec.seed + 1000 * round_)
        judge, report = steps.fresh_judge(self.encoder, self.probe, drafted, self.spec.seed + round_)
        judge.save(judge_dir, {"model": "realism-head", "round": round_, "writer": str(writer.path),
                               "sampling": writer.sampling.to_dict(), "metrics": report})
        return {"auc": report["auc"], "pass_rate": report["pass_rate"],
                "held_out_perplexity": round(self.held_out_perplexity(writer), 3),
                **steps.probe_measures(drafted)}

    def fine_tune(self, writer: Writer, engine: Any, judge: PairScorer, round_: int) -> Path:
        rng = random.Random(self.spec.seed + round_)
        prompts = _pick(self.train_split, self.spec.prompts_per_task, rng)
        chosen = steps.choose(steps.draft(writer, engine, prompts, self.spec.candidates, self.spec.seed + round_),
                              judge, self.quality)
        folder = self.spec.out / f"round-{round_}"
        mixed = steps.mix(chosen, self.train_split, rng.randrange(2**31))
        corpus = steps.write_corpus(folder / "data", mixed, self.validation)
        if writer.path is not None and is_adapter_checkpoint(writer.path):
            return self._fine_tune_adapter(writer, corpus, mixed, folder / "writer", len(chosen), round_)
        config = TextTrainConfig(epochs=1, lr=self.spec.lr, warmup_steps=10, patience=1, seed=self.spec.seed,
                                 device=self.spec.device)
        card = {"model": "writer-gpt2", "command": self.spec.command, "init": {"base": str(writer.path),
                "base_card": {k: writer.card.get(k) for k in ("command", "init", "metrics", "adversarial")}},
                "sampling": writer.sampling.to_dict(), "adversarial": {"round": round_, "learnt_from": len(chosen),
                                                                       "method": METHOD}}
        train_text(corpus, folder / "writer", writer.model, writer.tokenizer, config, card, progress=False)
        return folder / "writer"

    def _fine_tune_adapter(self, writer: Writer, corpus: Path, mixed: list[Record], out: Path, chosen: int,
                           round_: int) -> Path:
        """The same step for a LoRA writer: its adapter goes on learning (the base stays frozen), one epoch
        of `mixed` (the records written to `corpus`)."""
        from implementor.training.writer.finetune import FineTuneConfig, FineTuneSpec, finetune

        config = FineTuneConfig()
        docs = encode(mixed, writer.tokenizer, writer.format)
        # A round that learnt from few drafts fills few blocks: smaller batches, never fewer blocks than one batch.
        batch = max(1, min(config.batch_size, len(pack(docs, config.block_size))))
        steps = max(1, math.ceil(sum(len(ids) for ids in docs) / (batch * config.block_size)))
        config = FineTuneConfig(steps=steps, batch_size=batch, lr=self.spec.lr, warmup_steps=min(10, steps),
                                eval_every=steps, seed=self.spec.seed + round_, device=self.spec.device)
        card = finetune(FineTuneSpec(out, corpus=corpus, train=config, init=writer.path, command=self.spec.command),
                        progress=False)
        card["adversarial"] = {"round": round_, "learnt_from": chosen, "method": METHOD}
        write_json(out / CARD_FILE, card)
        return out

    def run(self) -> dict[str, Any]:
        state = self._start()
        bar = tqdm(total=self.spec.rounds, initial=state["round"], desc="adversarial", unit="round")
        while state["round"] < self.spec.rounds and not state["done"]:
            row = self._round(state, state["round"] + 1)
            self._log(state, row)
            bar.update()
            bar.set_postfix(auc=row.get("auc"), passing=row.get("pass_rate"), ppl=row.get("held_out_perplexity"))
        bar.close()
        return self._finish(state)

    def _start(self) -> dict[str, Any]:
        if self.spec.resume:
            return read_json(self.state_path, "adversarial state")
        if self.state_path.exists():
            raise InputError(f"{self.spec.out} holds a run; pass --resume to continue it")
        self.spec.out.mkdir(parents=True, exist_ok=True)
        writer, engine = _loaded(self.spec.writer, self.spec.device)
        row = {"round": 0, "accepted": True, **self.measure(writer, engine, 0, self.spec.out / "round-0" / "judge")}
        first_judge = self.spec.realism or self.spec.out / "round-0" / "judge"
        state = {"round": 0, "writer": str(self.spec.writer), "judge": str(first_judge),
                 "ppl0": row["held_out_perplexity"], "best_auc": max(row["auc"].values()), "stale": 0, "done": False,
                 "spec": {k: str(v) for k, v in asdict(self.spec).items()}}
        self._log(state, row)
        return state

    def _round(self, state: dict[str, Any], round_: int) -> dict[str, Any]:
        started = time.perf_counter()
        writer, engine = _loaded(Path(state["writer"]), self.spec.device)
        judge = PairScorer.load(state["judge"], self.encoder, "realism", self.spec.device)
        candidate, candidate_engine = _loaded(self.fine_tune(writer, engine, judge, round_), self.spec.device)
        judge_dir = self.spec.out / f"round-{round_}" / "judge"
        row = {"round": round_, **self.measure(candidate, candidate_engine, round_, judge_dir)}
        problem = self._guard(row, state["ppl0"])
        row.update(accepted=problem is None, rolled_back=problem, seconds=round(time.perf_counter() - started))
        if problem is None:
            state.update(writer=str(candidate.path), judge=str(judge_dir))
        worst = max(row["auc"].values())
        if problem is None and worst < state["best_auc"] - 0.005:
            state.update(best_auc=worst, stale=0)
        else:
            state["stale"] += 1
        state["done"] = (problem is None and worst <= self.spec.target_auc) or state["stale"] >= self.spec.patience
        state["round"] = round_
        return row

    def _guard(self, row: dict[str, Any], ppl0: float) -> str | None:
        if row["distinct_2"] < self.spec.min_distinct:
            return f"mode collapse: distinct-2 {row['distinct_2']} < {self.spec.min_distinct}"
        if row["held_out_perplexity"] > ppl0 * (1 + self.spec.max_ppl_rise):
            return (f"drift: held-out perplexity {row['held_out_perplexity']} > {ppl0:.3f} + "
                    f"{self.spec.max_ppl_rise:.0%}")
        return None

    def _log(self, state: dict[str, Any], row: dict[str, Any]) -> None:
        if row.get("rolled_back"):
            log.warning("round %d rolled back: %s", row["round"], row["rolled_back"])
        with (self.spec.out / "rounds.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        write_json(self.state_path, state)
        plot_rounds(self.spec.out / "rounds.jsonl", self.spec.out / "rounds.png")

    def _finish(self, state: dict[str, Any]) -> dict[str, Any]:
        rows = [json.loads(line) for line in (self.spec.out / "rounds.jsonl").read_text().splitlines()]
        for name, source in (("writer", state["writer"]), ("realism", state["judge"])):
            if (self.spec.out / name).exists():
                shutil.rmtree(self.spec.out / name)
            shutil.copytree(source, self.spec.out / name)
        card = read_json(self.spec.out / "writer" / CARD_FILE, "model card")
        card["adversarial"] = {"method": METHOD, "rounds": rows, "spec": state["spec"], "command": self.spec.command}
        write_json(self.spec.out / "writer" / CARD_FILE, card)
        return card["adversarial"]


def plot_rounds(rounds_file: Path, out: Path) -> None:
    rows = [json.loads(line) for line in rounds_file.read_text().splitlines()]
    x = [r["round"] for r in rows]
    auc = {f"AUC {t}": (x, [r["auc"].get(t, float("nan")) for r in rows]) for t in ("cv", "reply")}
    plot_panels([
        Panel("fresh discriminator (lower: harder to tell)", "round", "ROC AUC", auc, ylim=(0.4, 1.0)),
        Panel("prompts with a draft passing (10% real rejected)", "round", "share",
              {f"passing {t}": (x, [r.get("pass_rate", {}).get(t, float("nan")) for r in rows])
               for t in ("cv", "reply")}, ylim=(0, 1)),
        Panel("held-out perplexity of real text", "round", "perplexity",
              {"perplexity": (x, [r["held_out_perplexity"] for r in rows])}),
        Panel("variety and loops", "round", "share",
              {"distinct-2": (x, [r["distinct_2"] for r in rows]),
               "CVs repeating a skill": (x, [r["repeated_skill_rate"] for r in rows])}, ylim=(0, 1)),
    ], out, width=4.5)


def run_adversarial(spec: AdversarialSpec) -> dict[str, Any]:
    """Run (or resume) the rounds a spec describes; returns the final card's `adversarial` record."""
    if spec.rounds < 1 or spec.prompts_per_task < 1 or spec.probe_per_task < 2 or spec.candidates < 2:
        raise InputError("--rounds, --prompts and --candidates must be positive (at least 2 probe prompts, "
                         "2 candidates)")
    return Rounds(spec).run()
