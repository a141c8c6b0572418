"""/help: private; every command of every cog; what is kept and for how long; consent and opt-out; and
the models with the figures their cards recorded (a card's figure changed shows the new figure)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot_fake_client import MakeInteraction

from implementor.bot.app import Wiring
from implementor.bot.cogs.help import help_embed
from implementor.config.settings import Settings
from implementor.models import BUNDLED
from implementor.store import cards, versions


def text_of(embed: object) -> str:
    return "\n".join([embed.description or "", *(f"{f.name}\n{f.value}" for f in embed.fields)])  # type: ignore[attr-defined]


async def test_help_is_private_and_names_every_command(wiring: Wiring, make_interaction: MakeInteraction) -> None:
    asked = make_interaction()
    await wiring.help.help.callback(wiring.help, asked)  # type: ignore[arg-type, call-arg]
    [(_, options)] = asked.response.messages
    assert options["ephemeral"] and options["allowed_mentions"].to_dict() == {"parse": []}
    embed = options["embed"]
    text = text_of(embed)
    names = ["introduce", "team show", "team switch", "team retire", "project", "ratings", "learn enable",
             "learn disable", "learn optout", "learn optin", "learn status", "settings", "help"]
    assert all(f"`/{name}`" in text for name in names), text
    assert "@Implementor introduce yourself" in text
    assert "/learn optout" in text and "ratings and ratings of replies to you at once" in text  # consent and opt-out
    assert "the queue forgets them after 24 h" in text  # what is kept, for how long (result_ttl_s)
    assert len(embed) <= 6000 and all(len(f.value) <= 1024 for f in embed.fields)  # Discord's limits


def test_the_models_are_shown_with_the_figures_on_their_cards(tmp_path: Path) -> None:
    served = {c.role: c for c in cards.served(Settings())}
    assert served["face"].source == "bundled face-lfw"
    card = cards.read_card(BUNDLED / "realism-minilm")
    auc = card["metrics"]["validation"]["auc"]
    assert f"validation AUC {auc:.2f}" in served["realism"].figures
    writer = cards.read_card(BUNDLED / "writer-smollm2")["metrics"]
    # the test-split figure where the evaluation measured one (`eval text --no-perplexity` does not), else validation's
    perplexity = writer.get("eval", {}).get("perplexity", {}).get("model") or writer["validation_perplexity"]
    assert f"perplexity {perplexity:.1f} on held-out text" in served["writer"].figures

    # An operator's own checkpoint: its card, not the bundled one's, is what /help shows.
    own = tmp_path / "my-quality"
    shutil.copytree(BUNDLED / "quality-minilm", own)
    mine = json.loads((own / "card.json").read_text())
    mine["metrics"]["validation"]["auc"] = 0.5123
    (own / "card.json").write_text(json.dumps(mine))
    [quality] = [c for c in cards.served(Settings(quality_model=own)) if c.role == "quality"]
    assert quality.source == "configured my-quality" and quality.figures == ["validation AUC 0.51"]


def test_a_promoted_head_is_shown_with_its_held_out_figures(tmp_path: Path) -> None:
    head = tmp_path / "head"
    shutil.copytree(BUNDLED / "quality-minilm", head)
    (head / "card.json").write_text(json.dumps({"learning": {"held_out": {"pairs": 80, "spearman": 0.83,
                                                                         "auc_5plus": 1.0}}}))
    name = versions.add(tmp_path / "models", "quality", head)
    versions.promote(tmp_path / "models", "quality", name, "test")
    [quality] = [c for c in cards.served(Settings(models_dir=tmp_path / "models")) if c.role == "quality"]
    assert quality.source == f"live version {name}"
    assert quality.figures == ["held-out spearman 0.83", "held-out auc_5plus 1"]


def test_a_checkpoint_without_a_card_says_so(tmp_path: Path) -> None:
    bare = tmp_path / "face"
    bare.mkdir()
    [face] = [c for c in cards.served(Settings(face_model=bare)) if c.role == "face"]
    assert face.figures == []
    embed = help_embed(Settings(face_model=bare), [], [face])
    assert "Its card records no figures." in text_of(embed)
