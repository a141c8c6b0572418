from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    load_tensors,
    optimizer_from_tensors,
    optimizer_to_tensors,
    save_checkpoint,
    sha256_file,
)
from implementor.models.face.dcgan import DCGANConfig
from implementor.models.face.generator import FaceGenerator


def test_round_trip_records_the_sha256(tmp_path: Path) -> None:
    tensors = {"w": torch.arange(6.0).reshape(2, 3)}
    card = save_checkpoint(tmp_path / "ck", {"architecture": "x"}, tensors, {"command": "test"})
    assert card["sha256"][WEIGHTS_FILE] == sha256_file(tmp_path / "ck" / WEIGHTS_FILE)
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.config == {"architecture": "x"}
    assert loaded.card["command"] == "test"
    assert torch.equal(loaded.tensors["w"], tensors["w"])


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")


def test_directory_without_config_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a checkpoint directory"):
        load_checkpoint(tmp_path)


def test_pickled_weights_are_refused(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text(json.dumps(DCGANConfig().to_dict()))
    torch.save({"w": torch.zeros(2)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="refusing pickled checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="refusing pickled"):
        load_checkpoint(tmp_path / "pytorch_model.bin")


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_a_pickle_renamed_to_safetensors_is_refused(tiny_checkpoint: Path, tmp_path: Path, writer: str) -> None:
    ckpt = tmp_path / "ck"
    ckpt.mkdir()
    (ckpt / CONFIG_FILE).write_bytes((tiny_checkpoint / CONFIG_FILE).read_bytes())
    target = ckpt / WEIGHTS_FILE
    if writer == "torch.save":
        torch.save({"w": torch.zeros(2)}, target)
    else:
        target.write_bytes(pickle.dumps({"w": [0.0, 0.0]}))
    with pytest.raises(CheckpointError, match="pickle"):
        FaceGenerator.load(ckpt, "cpu")


def test_corrupt_weights_fail_the_checksum(tiny_checkpoint: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ck"
    ckpt.mkdir()
    for name in (CONFIG_FILE, CARD_FILE, WEIGHTS_FILE):
        (ckpt / name).write_bytes((tiny_checkpoint / name).read_bytes())
    data = bytearray((ckpt / WEIGHTS_FILE).read_bytes())
    data[-10] ^= 0xFF
    (ckpt / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        FaceGenerator.load(ckpt, "cpu")


def test_truncated_weights_without_a_card_are_reported(tiny_checkpoint: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ck"
    ckpt.mkdir()
    (ckpt / CONFIG_FILE).write_bytes((tiny_checkpoint / CONFIG_FILE).read_bytes())
    (ckpt / WEIGHTS_FILE).write_bytes((tiny_checkpoint / WEIGHTS_FILE).read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        FaceGenerator.load(ckpt, "cpu")


def test_config_that_does_not_match_the_weights_is_refused(tiny_checkpoint: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ck"
    ckpt.mkdir()
    for name in (CARD_FILE, WEIGHTS_FILE):
        (ckpt / name).write_bytes((tiny_checkpoint / name).read_bytes())
    config = json.loads((tiny_checkpoint / CONFIG_FILE).read_text())
    config["ngf"] *= 2
    (ckpt / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="config.json does not match the weights"):
        FaceGenerator.load(ckpt, "cpu")


def test_optimizer_state_round_trips_without_pickle() -> None:
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, groups = optimizer_to_tensors("opt", opt)
    json.dumps(groups)  # the param groups must be JSON, not pickled objects
    fresh = torch.optim.Adam(model.parameters(), lr=1.0)
    optimizer_from_tensors(fresh, "opt", tensors, groups)
    assert fresh.param_groups[0]["lr"] == 1e-3
    for key, value in opt.state_dict()["state"][0].items():
        assert torch.equal(torch.as_tensor(fresh.state_dict()["state"][0][key]), torch.as_tensor(value))


def test_a_safetensors_file_whose_header_length_starts_like_a_pickle_loads(tmp_path: Path) -> None:
    """The header's length is the file's first byte: 0x80 (pickle's magic) for a 384-byte header."""
    import struct

    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    header = header.ljust(0x180, b" ")  # safetensors pads its header with spaces
    path = tmp_path / "tensors.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.0, 2.0))
    assert path.read_bytes()[:1] == b"\x80"
    assert torch.equal(load_tensors(path)["w"], torch.tensor([1.0, 2.0]))
