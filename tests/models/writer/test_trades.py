"""The trade book: the facts a CV prompt carries for a title, built from ESCO's index, read back,
trained with and served from the checkpoint; a book that does not match its card is refused."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from implementor.contracts.errors import CheckpointError
from implementor.contracts.records import CVRecord
from implementor.models.common.checkpoint import CARD_FILE, read_json
from implementor.models.writer.model import Writer
from implementor.models.writer.prompts import InstructFormat
from implementor.models.writer.trades import TRADES_FILE, Trade, TradeBook
from implementor.training.corpus.compose import Context, trade_of
from implementor.training.corpus.esco import Occupation, Skill
from implementor.training.corpus.splits import load_split
from implementor.training.writer.finetune import FineTuneConfig, FineTuneSpec, finetune

SCIENTIST = Trade(title="Data Scientist", description="Data scientists find and interpret rich data sources.",
                  skills=("interpret statistical data", "manage data"), fields=("statistics",),
                  work=("Collected data from sources.",))


def _skill(label: str, words: int = 40) -> Skill:
    return Skill(label=label, description=" ".join(["Check the parts"] + ["carefully"] * words) + ".", knowledge=False)


def test_a_trade_carries_a_short_description_the_skills_and_one_piece_of_work_per_role() -> None:
    long = " ".join(f"Sentence {i} tells what welders do all day long in the workshop." for i in range(8))
    ctx = Context(Occupation("welder", long), tuple(_skill(f"weld part {i}") for i in range(12)),
                  (Skill("metallurgy", "The study of metals.", knowledge=True),))
    trade = trade_of(ctx)
    assert trade.title == "Welder" and trade.description.count(".") == 3  # three sentences of eight
    assert trade.skills == tuple(f"weld part {i}" for i in range(12)) and trade.fields == ("metallurgy",)
    assert len(trade.work) == 4 and all(len(w.split()) <= 25 for w in trade.work)  # skills 2 to 5, shortened
    assert trade.work[0].startswith("Check the parts")


def test_the_book_reads_back_what_it_wrote_and_looks_titles_up_loosely(tmp_path: Path) -> None:
    TradeBook([SCIENTIST]).save(tmp_path / TRADES_FILE)
    first = (tmp_path / TRADES_FILE).read_bytes()
    TradeBook([SCIENTIST]).save(tmp_path / TRADES_FILE)
    assert (tmp_path / TRADES_FILE).read_bytes() == first  # same book, same bytes
    book = TradeBook.load(tmp_path / TRADES_FILE)
    assert book.get("  data   SCIENTIST ") == SCIENTIST and book.get("Welder") is None


def test_a_broken_book_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json.gz").write_bytes(gzip.compress(b'{"version": 1, "trades": {"x": {"title": "X"}}}'))
    with pytest.raises(CheckpointError, match="not a readable trade book.*implementor corpus trades"):
        TradeBook.load(tmp_path / "bad.json.gz")
    with pytest.raises(CheckpointError, match="is missing"):
        TradeBook.load(tmp_path / "none.json.gz")


def test_a_cv_prompt_carries_its_trade_and_a_title_the_book_lacks_is_asked_as_before(tiny_llama_base: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_llama_base))
    plain, grounded = InstructFormat(tokenizer), InstructFormat(tokenizer, TradeBook([SCIENTIST]))
    prompt = grounded.cv("Ada Lovelace", "Data Scientist")
    assert "find and interpret rich data sources" in prompt and "interpret statistical data; manage data" in prompt
    assert prompt.index("Ada Lovelace") < prompt.index("What the trade involves") < prompt.index("Use the sections")
    assert grounded.cv("Ada Lovelace", "Welder") == plain.cv("Ada Lovelace", "Welder")
    assert "What the trade" not in plain.cv("Ada Lovelace", "Data Scientist")


def _grounded_corpus(mini_corpus: Path, out: Path) -> TradeBook:
    shutil.copytree(mini_corpus, out)
    titles = {r.title for split in ("train", "validation") for r in load_split(out, split) if isinstance(r, CVRecord)}
    book = TradeBook(Trade(t, f"{t}s do the work of the {t.lower()}.", ("plan the work",), (), ()) for t in titles)
    book.save(out / TRADES_FILE)
    return book


def test_a_writer_trained_with_a_book_ships_it_and_serves_with_it(tiny_llama_base: Path, mini_corpus: Path,
                                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    monkeypatch.setenv("IMPLEMENTOR_CACHE_DIR", str(tmp_path / "cache"))
    book = _grounded_corpus(mini_corpus, tmp_path / "corpus")
    config = FineTuneConfig(steps=2, batch_size=2, block_size=64, eval_every=2, eval_blocks=4, device="cpu", bf16=False)
    card = finetune(FineTuneSpec(tmp_path / "writer", str(tiny_llama_base), tmp_path / "corpus", lora_r=4,
                                 train=config), progress=False)
    assert card["trades"]["entries"] == len(book) and (tmp_path / "writer" / TRADES_FILE).is_file()
    title = next(iter(book.trades.values())).title
    writer = Writer.load(tmp_path / "writer", "cpu")
    assert f"the work of the {title.lower()}" in writer.format.cv("Ada Lovelace", title)

    TradeBook([SCIENTIST]).save(tmp_path / "writer" / TRADES_FILE)  # replaced after training
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        Writer.load(tmp_path / "writer", "cpu")
    assert read_json(tmp_path / "writer" / CARD_FILE, "card")["trades"]["file"] == TRADES_FILE
