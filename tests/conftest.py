"""Shared fixtures: tiny models and real (LFW) faces, small enough for a CPU test run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.dcgan import DCGANConfig
from models.face_data import FaceData, load_face_data
from models.face_train import FaceTrainConfig, train_face


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
    return load_face_data("lfw", 32, 1)


@pytest.fixture(scope="session")
def tiny_config() -> DCGANConfig:
    return DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, lfw32: FaceData, tiny_config: DCGANConfig) -> Path:
    """A tiny DCGAN trained for a few steps: a real checkpoint directory, quick to make."""
    out = tmp_path_factory.mktemp("ckpt") / "face"
    torch.manual_seed(0)
    train_face(lfw32, out, tiny_config, FaceTrainConfig(steps=4, batch_size=8, sample_every=2,
                                                        checkpoint_every=2, device="cpu"), progress=False)
    return out
