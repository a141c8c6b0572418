"""Shared fixtures: tiny models and real (LFW) faces, small enough for a CPU test run.

torch and the models are imported inside the fixtures that make models, never at the top: the bot's
and the contracts' tests take none of them, and so run where torch is not installed (the bot's image).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from implementor.models.face.dcgan import DCGANConfig
    from implementor.training.face.data import FaceData

# The model tests' fixtures (tests/support/model_fixtures.py), where torch is installed: the bot's
# torch-free run has none.
# The session's PostgreSQL server (tests/support/postgres_server.py), one for every test that takes it.
pytest_plugins = ["postgres_server"] + (["model_fixtures"] if importlib.util.find_spec("torch") is not None else [])

# No test may reach a model hub; read by huggingface_hub when first imported, so set it first.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def needs_torch() -> Any:
    """torch, for a fixture that makes a model; where it is not installed, the tests that need one skip."""
    return pytest.importorskip("torch", reason="torch is not installed (the bot's image): no test models")


def pytest_configure(config: pytest.Config) -> None:
    """The test models are tiny: one thread runs them fastest, and never fights a busy machine for cores."""
    if importlib.util.find_spec("torch") is not None:  # where torch is installed; the bot's tests need none
        import torch

        torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's IMPLEMENTOR_* variables and .env file out of the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("IMPLEMENTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def lfw32() -> FaceData:
    """The real LFW faces at 32 px, grayscale, split 80/20."""
    needs_torch()
    from implementor.training.face.data import load_face_data

    return load_face_data("lfw", 32, 1)


@pytest.fixture(scope="session")
def tiny_config() -> DCGANConfig:
    needs_torch()
    from implementor.models.face.dcgan import DCGANConfig

    return DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, lfw32: FaceData, tiny_config: DCGANConfig) -> Path:
    """A tiny DCGAN trained for a few steps: a real checkpoint directory, quick to make."""
    torch = needs_torch()

    from implementor.training.face.train import FaceTrainConfig, train_face

    out = tmp_path_factory.mktemp("ckpt") / "face"
    torch.manual_seed(0)
    train_face(lfw32, out, tiny_config, FaceTrainConfig(steps=4, batch_size=8, sample_every=2,
                                                        checkpoint_every=2, device="cpu"), progress=False)
    return out


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The shipped all-MiniLM-L6-v2 encoder, on the CPU."""
    needs_torch()
    from implementor.models.common.encoder import SentenceEncoder

    return SentenceEncoder.load("all-MiniLM-L6-v2", "cpu")


@pytest.fixture(scope="session")
def small_esco_index(minilm):  # type: ignore[no-untyped-def]
    """A similarity index over a slice of ESCO: the real code path, a few seconds to build."""
    from implementor.training.corpus.build import EscoIndex
    from implementor.training.corpus.esco import occupations, skills

    return EscoIndex(occupations()[:150], skills()[:400], minilm)


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first records of each split of the bundled corpus, as plain JSONL."""
    from implementor.training.corpus.splits import SPLITS, load_split, write_jsonl

    src = Path(__file__).parents[1] / "implementor" / "models" / "bundled" / "writer-corpus"
    out = tmp_path_factory.mktemp("corpus")
    for split, n in zip(SPLITS, (160, 40, 40), strict=True):
        write_jsonl(out / f"{split}.jsonl", load_split(src, split)[:n])
    return out


MICRO = {"n_layer": 2, "n_head": 2, "n_embd": 32, "n_positions": 192, "vocab_size": 700}


@pytest.fixture(scope="session")
def tiny_writer_dir(tmp_path_factory: pytest.TempPathFactory, mini_corpus: Path) -> Path:
    """A micro GPT-2 writer trained for two epochs on the mini corpus: real files, seconds to make."""
    torch = needs_torch()

    from implementor.models.writer.prompts import training_text
    from implementor.training.corpus.splits import load_split
    from implementor.training.writer.scratch import WriterSize, new_model, train_tokenizer
    from implementor.training.writer.train import TextTrainConfig, train_text

    out = tmp_path_factory.mktemp("writer") / "tiny"
    tokenizer = train_tokenizer([training_text(r) for r in load_split(mini_corpus, "train")], MICRO["vocab_size"])
    torch.manual_seed(0)
    model = new_model(WriterSize(**MICRO), tokenizer)
    config = TextTrainConfig(epochs=2, batch_size=8, lr=3e-3, warmup_steps=5, device="cpu")
    train_text(mini_corpus, out, model, tokenizer, config, {"model": "writer-gpt2", "command": "test"},
               progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small BERT saved with save_pretrained (MiniLM's tokenizer, a 2-layer 32-wide model): the path
    an operator's `bert-base-uncased` or own directory takes, in a second of CPU."""
    torch = needs_torch()
    from transformers import AutoTokenizer, BertConfig, BertModel

    from implementor.models.common.encoder import bundled_minilm_dir

    out = tmp_path_factory.mktemp("bert")
    AutoTokenizer.from_pretrained(str(bundled_minilm_dir())).save_pretrained(out)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertModel(config).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_heads(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path, tiny_writer_dir: Path,
               mini_corpus: Path) -> dict[str, Path]:
    """Realism and quality heads on the small BERT, trained for a few epochs: real checkpoints, quickly."""
    from implementor.models.common.encoder import SentenceEncoder
    from implementor.models.rerank.head import HeadConfig
    from implementor.models.writer.model import Writer
    from implementor.training.corpus.splits import load_split
    from implementor.training.rerank.quality_data import bootstrap_examples
    from implementor.training.rerank.realism_data import generate_fakes, pick_prompts, realism_examples
    from implementor.training.rerank.train import HeadTrainConfig, train_head

    out = tmp_path_factory.mktemp("heads")
    bert = SentenceEncoder.load(tiny_bert_dir, "cpu")
    writer = Writer.load(tiny_writer_dir, "cpu")
    records = pick_prompts(load_split(mini_corpus, "train"), 12, seed=0)
    fakes = generate_fakes(writer, records, 1, seed=0, progress=False)
    data = {"realism": realism_examples(records, fakes), "quality": bootstrap_examples(records, seed=0)}
    for task, examples in data.items():
        config = HeadConfig(task=task, encoder=str(tiny_bert_dir), encoder_fingerprint=bert.fingerprint(),  # type: ignore[arg-type]
                            encoder_width=bert.width, layers=(1, 2), hidden=16, max_length=256)
        scorer, _ = train_head(bert, config, examples, HeadTrainConfig(epochs=3, device="cpu"), progress=False)
        scorer.save(out / task, {"model": f"{task}-head", "sampling": writer.sampling.to_dict()})
    return {"realism": out / "realism", "quality": out / "quality"}


@pytest.fixture(scope="session")
def tiny_env(tiny_checkpoint: Path, tiny_writer_dir: Path, tiny_bert_dir: Path,
             tiny_heads: dict[str, Path]) -> dict[str, str]:
    """IMPLEMENTOR_* variables that point every model at its tiny test twin (for workers and the CLI)."""
    return {
        "IMPLEMENTOR_FACE_MODEL": str(tiny_checkpoint),
        "IMPLEMENTOR_WRITER_MODEL": str(tiny_writer_dir),
        "IMPLEMENTOR_ENCODER": str(tiny_bert_dir),
        "IMPLEMENTOR_REALISM_MODEL": str(tiny_heads["realism"]),
        "IMPLEMENTOR_QUALITY_MODEL": str(tiny_heads["quality"]),
        "IMPLEMENTOR_CANDIDATES": "3",
        "IMPLEMENTOR_DEVICE": "cpu",
    }
