"""Training the face DCGAN: Adam(2e-4, betas 0.5/0.999) and the non-saturating GAN loss.

The loop follows the DCGAN paper and pytorch/examples' `dcgan/main.py`, with the habits a long run
needs: a progress bar, fixed-noise sample grids, checkpoints that `--resume` continues from (step,
optimisers and random state included), and a loss plot. A run directory holds:
    config.json, model.safetensors, card.json   the checkpoint (the generator), loadable by FaceGenerator
    training_state.safetensors                  discriminator, optimisers, RNG and loss history (resume)
    samples/step_NNNNNN.png                     fixed-noise grids, every `sample_every` steps
    samples.png, losses.png                     the final grid and the loss curves
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from implementor.contracts.errors import CheckpointError, InputError
from implementor.models.common.checkpoint import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    check_state_dict,
    load_checkpoint,
    load_tensors,
    optimizer_from_tensors,
    optimizer_to_tensors,
    read_json,
    read_metadata,
    save_checkpoint,
    save_tensors,
)
from implementor.models.common.devices import resolve_device
from implementor.models.face.dcgan import DCGANConfig, Discriminator, Generator
from implementor.models.face.generator import grid_png, latents
from implementor.training.face.data import FaceData, augment, load_face_data
from implementor.training.plots import Panel, plot_panels

log = logging.getLogger(__name__)

STATE_FILE = "training_state.safetensors"
HISTORY_COLUMNS = ("loss_d", "loss_g", "d_real", "d_fake")  # d_*: mean sigmoid(D) on real / fake


@dataclass(frozen=True)
class FaceTrainConfig:
    steps: int = 6000
    # The Implementor articles trained on staff photos 32 at a time; small batches also suit a CPU.
    batch_size: int = 32
    # The DCGAN paper's optimiser: a lower lr and beta1 than Adam's defaults keep training stable.
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # Flips and shifts of up to this many pixels; see data.augment.
    max_shift: int = 2
    sample_every: int = 500
    checkpoint_every: int = 1000
    seed: int = 0
    device: str = "auto"


@dataclass(frozen=True)
class FaceTrainSpec:
    """What `implementor train face` asks for: the data, the model's shape and the run's settings."""

    out: Path
    data: str | None = None  # `lfw`, a folder of crops, or (resuming) the checkpoint's own data
    image_size: int = 32
    channels: int | None = None  # None: 1 for lfw, 3 for a folder
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    train: FaceTrainConfig = FaceTrainConfig()
    resume: bool = False
    command: str = ""


@dataclass(frozen=True)
class StepStats:
    loss_d: float
    loss_g: float
    d_real: float
    d_fake: float


class FaceTrainer:
    """The two networks, their optimisers and the training state, on one device."""

    def __init__(self, model_config: DCGANConfig, train_config: FaceTrainConfig, data: FaceData) -> None:
        c, s = model_config.channels, model_config.image_size
        if tuple(data.train.shape[1:]) != (c, s, s):
            raise ValueError(f"data has shape {tuple(data.train.shape[1:])}, the model wants {(c, s, s)}")
        torch.manual_seed(train_config.seed)
        self.model_config = model_config
        self.config = train_config
        self.device = resolve_device(train_config.device)
        self.data = data
        self.train_images = data.train  # stays on the CPU: augmentation draws from a CPU generator
        self.generator = Generator(model_config).to(self.device)
        self.discriminator = Discriminator(model_config).to(self.device)
        betas = (train_config.beta1, train_config.beta2)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=train_config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=train_config.lr, betas=betas)
        # Batches and augmentation draw from their own generator so resuming replays the same stream.
        self.rng = torch.Generator().manual_seed(train_config.seed)
        # 64 fixed latents (seeds 0..63) make the sample grids comparable from step to step.
        self.fixed_z = latents(list(range(64)), model_config.nz).to(self.device)
        self.step = 0
        self.wall_time_s = 0.0
        self.history: list[list[float]] = []

    def train_step(self) -> StepStats:
        """One discriminator update and one generator update."""
        cfg = self.config
        index = torch.randint(0, len(self.train_images), (cfg.batch_size,), generator=self.rng)
        real = augment(self.train_images[index], self.rng, cfg.max_shift).to(self.device)
        z = torch.randn(cfg.batch_size, self.model_config.nz, generator=self.rng).to(self.device)
        ones = torch.ones(cfg.batch_size, device=self.device)
        zeros = torch.zeros(cfg.batch_size, device=self.device)

        fake = self.generator(z)
        logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(logits_real, ones) + F.binary_cross_entropy_with_logits(
            logits_fake, zeros
        )
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # Non-saturating loss: maximise log D(G(z)) rather than minimise log(1 - D(G(z))), which
        # gives the generator strong gradients early, when the discriminator easily rejects it.
        loss_g = F.binary_cross_entropy_with_logits(self.discriminator(fake), ones)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()

        self.step += 1
        stats = StepStats(
            loss_d=loss_d.item(),
            loss_g=loss_g.item(),
            d_real=torch.sigmoid(logits_real).mean().item(),
            d_fake=torch.sigmoid(logits_fake).mean().item(),
        )
        self.history.append(list(astuple(stats)))
        return stats

    @torch.inference_mode()
    def fixed_samples(self) -> torch.Tensor:
        """The fixed latents through the generator in eval mode, as sampling will see it."""
        self.generator.eval()
        try:
            return self.generator(self.fixed_z).cpu()
        finally:
            self.generator.train()

    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """Everything beyond the generator that resuming needs, as tensors plus JSON metadata."""
        tensors = {f"discriminator.{k}": v for k, v in self.discriminator.state_dict().items()}
        opt_g, groups_g = optimizer_to_tensors("opt_g", self.opt_g)
        opt_d, groups_d = optimizer_to_tensors("opt_d", self.opt_d)
        tensors |= opt_g | opt_d
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.data"] = self.rng.get_state()
        tensors["history"] = torch.tensor(self.history or [[0.0] * len(HISTORY_COLUMNS)])[: max(1, self.step)]
        meta = {"step": self.step, "wall_time_s": self.wall_time_s, "groups_g": groups_g, "groups_d": groups_d}
        return tensors, {"trainer": json.dumps(meta)}

    def load_state(self, directory: Path) -> None:
        """Continue from a run directory written by `save`."""
        ckpt = load_checkpoint(directory)
        saved = DCGANConfig.from_dict(ckpt.config)
        if saved != self.model_config:
            raise CheckpointError(f"{directory} holds a {saved}, not the {self.model_config} asked for")
        check_state_dict(self.generator, ckpt.tensors, str(directory / WEIGHTS_FILE))
        self.generator.load_state_dict(ckpt.tensors)
        state_path = directory / STATE_FILE
        if not state_path.exists():
            raise CheckpointError(f"{directory} has no {STATE_FILE}, so it cannot be resumed (only sampled)")
        state = load_tensors(state_path, ckpt.card.get("sha256", {}).get(STATE_FILE))
        meta = json.loads(read_metadata(state_path).get("trainer", "{}"))
        disc = {k.removeprefix("discriminator."): v for k, v in state.items() if k.startswith("discriminator.")}
        check_state_dict(self.discriminator, disc, str(state_path))
        self.discriminator.load_state_dict(disc)
        optimizer_from_tensors(self.opt_g, "opt_g", state, meta["groups_g"])
        optimizer_from_tensors(self.opt_d, "opt_d", state, meta["groups_d"])
        torch.set_rng_state(state["rng.torch"])
        self.rng.set_state(state["rng.data"])
        self.step = int(meta["step"])
        self.wall_time_s = float(meta["wall_time_s"])
        self.history = state["history"].tolist()[: self.step]

    def save(self, directory: Path, card: dict[str, Any]) -> dict[str, Any]:
        """Write the checkpoint and the resume state; return the card as written."""
        tensors, meta = self.state_tensors()
        state_digest = save_tensors(directory / STATE_FILE, tensors, meta)
        card = {
            **card,
            "steps": self.step,
            "wall_time_s": round(self.wall_time_s, 1),
            "train_config": asdict(self.config),
            "data": self.data.describe(),
            # Metrics of an earlier save (eval results included) describe other weights: start afresh.
            "metrics": self.loss_summary(),
            "sha256": {STATE_FILE: state_digest},
        }
        return save_checkpoint(directory, self.model_config.to_dict(), self.generator.state_dict(), card)

    def loss_summary(self, last: int = 200) -> dict[str, float]:
        """Mean of each history column over the last `last` steps."""
        if not self.history:
            return {}
        recent = torch.tensor(self.history[-last:])
        return {f"{name}_last{min(last, len(recent))}": round(v, 4) for name, v in zip(
            HISTORY_COLUMNS, recent.mean(0).tolist(), strict=True)}


def plot_losses(history: list[list[float]], path: Path) -> None:
    """Loss curves (smoothed) and D's outputs on real and fake images, as one PNG."""
    data = torch.tensor(history)
    window = max(1, len(data) // 100)
    kernel = torch.ones(window) / window
    smooth = [torch.conv1d(col[None, None], kernel[None, None]).flatten().tolist() for col in data.T]
    steps = list(range(window, window + len(smooth[0])))
    curves = dict(zip(HISTORY_COLUMNS, smooth, strict=True))
    plot_panels([
        Panel(f"losses (moving mean of {window})", "step", "BCE loss",
              {name: (steps, curves[name]) for name in HISTORY_COLUMNS[:2]}),
        Panel("discriminator outputs", "step", "mean sigmoid(D)",
              {name: (steps, curves[name]) for name in HISTORY_COLUMNS[2:]}, ylim=(0, 1)),
    ], path, width=5.5)


def train_face(
    data: FaceData,
    out_dir: Path,
    model_config: DCGANConfig,
    train_config: FaceTrainConfig,
    *,
    resume: bool = False,
    command: str = "",
    progress: bool = True,
) -> dict[str, Any]:
    """Train (or continue training) until `train_config.steps`; return the final card."""
    trainer = FaceTrainer(model_config, train_config, data)
    card: dict[str, Any] = {"model": "face-dcgan", "command": command}
    if resume:
        trainer.load_state(out_dir)
        card = {**read_json(out_dir / CARD_FILE, "model card"), "command": command}
        log.info("resuming %s at step %d of %d", out_dir, trainer.step, train_config.steps)
    elif (out_dir / WEIGHTS_FILE).exists():
        raise CheckpointError(f"{out_dir} already holds a checkpoint; pass --resume to continue it")
    if trainer.step >= train_config.steps:
        log.warning("%s is already at step %d; nothing to do (raise --steps to train further)", out_dir, trainer.step)
        return card
    samples_dir = out_dir / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=train_config.steps, initial=trainer.step, desc="train face", unit="step",
               disable=not progress, dynamic_ncols=True)
    started = time.perf_counter() - trainer.wall_time_s
    while trainer.step < train_config.steps:
        stats = trainer.train_step()
        trainer.wall_time_s = time.perf_counter() - started
        bar.update(1)
        if trainer.step % 10 == 0:
            bar.set_postfix(loss_d=f"{stats.loss_d:.3f}", loss_g=f"{stats.loss_g:.3f}",
                            d_real=f"{stats.d_real:.2f}", d_fake=f"{stats.d_fake:.2f}")
        if trainer.step % train_config.sample_every == 0 or trainer.step == train_config.steps:
            (samples_dir / f"step_{trainer.step:06d}.png").write_bytes(grid_png(trainer.fixed_samples()))
        if trainer.step % train_config.checkpoint_every == 0 and trainer.step < train_config.steps:
            card = trainer.save(out_dir, card)
    bar.close()
    card = trainer.save(out_dir, card)
    (out_dir / "samples.png").write_bytes(grid_png(trainer.fixed_samples()))
    plot_losses(trainer.history, out_dir / "losses.png")
    log.info("trained %d steps in %.0f s; checkpoint in %s", trainer.step, trainer.wall_time_s, out_dir)
    return card


def run_face_training(spec: FaceTrainSpec) -> dict[str, Any]:
    """Train (or resume) the DCGAN a spec describes; return the final card."""
    if spec.resume:
        model_config = DCGANConfig.from_dict(read_json(spec.out / CONFIG_FILE, "model config"))
        data = spec.data or read_json(spec.out / CARD_FILE, "model card").get("data", {}).get("source", "lfw")
    else:
        data = spec.data or "lfw"
        try:
            model_config = DCGANConfig(spec.image_size, spec.channels or (1 if data == "lfw" else 3), spec.nz,
                                       spec.ngf, spec.ndf)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    face_data = load_face_data(data, model_config.image_size, model_config.channels)
    return train_face(face_data, spec.out, model_config, spec.train, resume=spec.resume, command=spec.command)
