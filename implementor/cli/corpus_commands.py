"""Commands for the writer's corpus: the CVs and request/reply pairs it learns from, and its trade book.

Room: `implementor`, which may use every room.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from implementor.cli.console import command_line, done
from implementor.cli.text_commands import DeviceOpt
from implementor.config import get_settings
from implementor.contracts.errors import InputError


def corpus_build(
    out: Annotated[Path, typer.Option(help="Directory for train/validation/test JSONL, datasheet and manifest.")],
    seed: Annotated[int, typer.Option(help="Fixes every choice; the same seed gives the same corpus.")] = 0,
    cvs: Annotated[int, typer.Option(help="Number of CVs across all splits.")] = 3000,
    pairs: Annotated[int, typer.Option(help="Number of request/reply pairs across all splits.")] = 3000,
    conversations: Annotated[float, typer.Option(help="Share of pairs that go on as a conversation (0 to 1; 0 "
                                                      "builds the corpus as it was before conversations).")] = 0.1,
    compress: Annotated[bool, typer.Option(help="Write .jsonl.gz instead of .jsonl.")] = False,
    device: DeviceOpt = None,
) -> None:
    """Build the writer's corpus from ESCO occupations and skills (CC BY 4.0) and Faker names."""
    from implementor.training.corpus.build import CorpusSpec, build_corpus

    if not 0.0 <= conversations <= 1.0:
        raise InputError(f"--conversations is a share of the pairs, 0 to 1; got {conversations}")
    spec = CorpusSpec(seed=seed, cvs=cvs, pairs=pairs, conversations=conversations)
    manifest = build_corpus(out, spec, command_line(), compress=compress, device=device or get_settings().device)
    typer.echo(json.dumps(manifest["counts"], indent=2))
    done("corpus written (see datasheet.md)", out)


def corpus_trades(
    out: Annotated[Path, typer.Option(help="The trade book to write (a .json.gz), e.g. into a corpus directory.")],
    device: DeviceOpt = None,
) -> None:
    """Build the writer's trade book from ESCO: for each occupation, the facts its CV prompt carries."""
    from implementor.models.common.encoder import MINILM, SentenceEncoder
    from implementor.training.corpus.build import EscoIndex, trade_book
    from implementor.training.corpus.esco import occupations, skills

    index = EscoIndex(occupations(), skills(), SentenceEncoder.load(MINILM, device or get_settings().device))
    book = trade_book(index)
    book.save(out)
    done(f"trade book of {len(book)} occupations written", out)
