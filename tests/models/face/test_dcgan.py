from __future__ import annotations

import pytest
import torch
from torch import nn

from implementor.contracts.errors import CheckpointError
from implementor.models.face.dcgan import DCGANConfig, Discriminator, Generator


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(size: int, channels: int) -> None:
    config = DCGANConfig(image_size=size, channels=channels, nz=20, ngf=8, ndf=8)
    g, d = Generator(config), Discriminator(config)
    images = g(torch.randn(5, 20))
    assert images.shape == (5, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # tanh output
    assert d(images).shape == (5,)


@pytest.mark.parametrize("size,blocks", [(32, 3), (64, 4)])
def test_each_doubling_adds_one_block(size: int, blocks: int) -> None:
    config = DCGANConfig(image_size=size, ngf=8, ndf=8)
    convs_t = [m for m in Generator(config).modules() if isinstance(m, nn.ConvTranspose2d)]
    convs = [m for m in Discriminator(config).modules() if isinstance(m, nn.Conv2d)]
    assert len(convs_t) == blocks + 1  # the 1x1 -> 4x4 projection, then one per doubling
    assert len(convs) == blocks + 1  # one per halving, then 4x4 -> 1x1


def test_paper_architecture_choices() -> None:
    config = DCGANConfig(ngf=16, ndf=16)
    g, d = Generator(config), Discriminator(config)
    assert isinstance(g.net[-1], nn.Tanh)
    assert any(isinstance(m, nn.ReLU) for m in g.modules())
    assert not any(isinstance(m, nn.LeakyReLU) for m in g.modules())
    leaky = [m for m in d.modules() if isinstance(m, nn.LeakyReLU)]
    assert leaky and all(m.negative_slope == 0.2 for m in leaky)
    # No batch norm on the discriminator's first block, batch norm on every other one.
    first, *rest = list(d.net)[:-1]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in first.modules())
    assert all(any(isinstance(m, nn.BatchNorm2d) for m in block.modules()) for block in rest)
    assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) for m in [*g.modules(), *d.modules()])


def test_weights_start_from_n_0_002() -> None:
    torch.manual_seed(0)
    g = Generator(DCGANConfig(ngf=64))
    weights = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)])
    scales = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01)
    assert scales.std().item() == pytest.approx(0.02, rel=0.2)


@pytest.mark.parametrize("bad", [{"image_size": 48}, {"channels": 2}, {"nz": 0}])
def test_config_rejects_unsupported_values(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        DCGANConfig(**bad)


def test_config_round_trips_and_rejects_foreign_json() -> None:
    config = DCGANConfig(image_size=64, channels=3, nz=50, ngf=32, ndf=16)
    assert DCGANConfig.from_dict(config.to_dict()) == config
    with pytest.raises(CheckpointError, match="gpt2"):
        DCGANConfig.from_dict({"architecture": "gpt2", "n_layer": 2})
    with pytest.raises(CheckpointError, match="n_layer"):
        DCGANConfig.from_dict({"n_layer": 2})


def test_wrong_input_shapes_are_named() -> None:
    config = DCGANConfig(ngf=8, ndf=8)
    with pytest.raises(ValueError, match=r"\(B, 100\)"):
        Generator(config)(torch.randn(2, 10))
    with pytest.raises(ValueError, match="32, 32"):
        Discriminator(config)(torch.randn(2, 1, 64, 64))
