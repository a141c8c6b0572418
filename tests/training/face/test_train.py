from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from implementor.contracts.errors import CheckpointError
from implementor.models.common.checkpoint import WEIGHTS_FILE, read_json
from implementor.models.face.dcgan import DCGANConfig, Generator
from implementor.training.face.data import FaceData
from implementor.training.face.train import STATE_FILE, FaceTrainConfig, train_face


def _config(steps: int) -> FaceTrainConfig:
    return FaceTrainConfig(steps=steps, batch_size=8, sample_every=2, checkpoint_every=2, device="cpu")


def test_a_short_run_changes_the_weights_and_writes_its_outputs(
    tmp_path: Path, lfw32: FaceData, tiny_config: DCGANConfig
) -> None:
    torch.manual_seed(0)
    initial = Generator(tiny_config).state_dict()  # same seed as the trainer's own initialisation
    card = train_face(lfw32, tmp_path, tiny_config, _config(3), command="implementor train face", progress=False)
    trained = load_file(str(tmp_path / WEIGHTS_FILE))
    changed = [k for k in initial if not torch.equal(initial[k], trained[k])]
    assert any("weight" in k for k in changed)
    assert card["steps"] == 3
    assert card["command"] == "implementor train face"
    assert card["data"]["train_images"] == 80
    assert {"loss_d_last3", "loss_g_last3"} <= card["metrics"].keys()
    assert set(card["sha256"]) == {WEIGHTS_FILE, STATE_FILE}
    for name in ("samples.png", "losses.png", "samples/step_000002.png", "samples/step_000003.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_resume_continues_the_step_count(tmp_path: Path, lfw32: FaceData, tiny_config: DCGANConfig) -> None:
    train_face(lfw32, tmp_path, tiny_config, _config(2), progress=False)
    first = load_file(str(tmp_path / WEIGHTS_FILE))
    card = train_face(lfw32, tmp_path, tiny_config, _config(5), resume=True, progress=False)
    assert card["steps"] == 5
    assert read_json(tmp_path / "card.json", "card")["steps"] == 5
    assert not torch.equal(first["net.0.weight"], load_file(str(tmp_path / WEIGHTS_FILE))["net.0.weight"])
    state = load_file(str(tmp_path / STATE_FILE))
    assert state["history"].shape == (5, 4)


def test_resuming_replays_an_uninterrupted_run(tmp_path: Path, lfw32: FaceData, tiny_config: DCGANConfig) -> None:
    straight, split = tmp_path / "straight", tmp_path / "split"
    train_face(lfw32, straight, tiny_config, _config(4), progress=False)
    train_face(lfw32, split, tiny_config, _config(2), progress=False)
    train_face(lfw32, split, tiny_config, _config(4), resume=True, progress=False)
    a, b = load_file(str(straight / WEIGHTS_FILE)), load_file(str(split / WEIGHTS_FILE))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_an_existing_checkpoint_is_not_overwritten(tmp_path: Path, lfw32: FaceData, tiny_config: DCGANConfig) -> None:
    train_face(lfw32, tmp_path, tiny_config, _config(1), progress=False)
    with pytest.raises(CheckpointError, match="--resume"):
        train_face(lfw32, tmp_path, tiny_config, _config(2), progress=False)


def test_resume_without_a_checkpoint_is_a_clear_error(
    tmp_path: Path, lfw32: FaceData, tiny_config: DCGANConfig
) -> None:
    with pytest.raises(CheckpointError, match="not a checkpoint directory"):
        train_face(lfw32, tmp_path, tiny_config, _config(2), resume=True, progress=False)


def test_resume_refuses_a_different_architecture(tmp_path: Path, lfw32: FaceData, tiny_config: DCGANConfig) -> None:
    train_face(lfw32, tmp_path, tiny_config, _config(1), progress=False)
    wider = DCGANConfig(image_size=32, channels=1, nz=16, ngf=16, ndf=8)
    with pytest.raises(CheckpointError, match="ngf=16"):
        train_face(lfw32, tmp_path, wider, _config(2), resume=True, progress=False)
