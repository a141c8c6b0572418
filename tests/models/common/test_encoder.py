"""The encoder loads safetensors only: a directory holding only pickled weights is refused with the
same one-line message as every other loader, before transformers could unpickle it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import refuse_pickles
from implementor.models.common.encoder import SentenceEncoder


def test_a_saved_bert_loads_from_its_safetensors(tiny_bert_dir: Path) -> None:
    encoder = SentenceEncoder.load(tiny_bert_dir, device="cpu")
    assert encoder.width == 32 and encoder.encode(["hello"]).shape == (1, 32)


def test_a_directory_of_pickled_weights_is_refused_like_every_checkpoint(tiny_bert_dir: Path,
                                                                         tmp_path: Path) -> None:
    pickled = tmp_path / "pickled-bert"
    shutil.copytree(tiny_bert_dir, pickled)
    weights = SentenceEncoder.load(tiny_bert_dir, device="cpu").model.state_dict()
    (pickled / "model.safetensors").unlink()
    torch.save(weights, pickled / "pytorch_model.bin")  # what transformers would otherwise unpickle
    with pytest.raises(CheckpointError) as refused:
        SentenceEncoder.load(pickled, device="cpu")
    with pytest.raises(CheckpointError) as reference:
        refuse_pickles(pickled)
    assert str(refused.value) == str(reference.value)
    assert str(refused.value).startswith("refusing pickled checkpoint (pytorch_model.bin)")
    assert "\n" not in str(refused.value)
