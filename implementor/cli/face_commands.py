"""Commands for the face: draw one, prepare photos, train, evaluate the DCGAN."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from typing import Annotated, Literal

import typer

from implementor.cli.console import command_line, done
from implementor.config import get_settings
from implementor.contracts.errors import DataError, InputError

log = logging.getLogger(__name__)

ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", help="Face checkpoint directory. Default: IMPLEMENTOR_FACE_MODEL, else the bundled one."),
]
DeviceOpt = Annotated[
    Literal["auto", "cpu", "cuda"] | None,
    typer.Option("--device", help="Where to run. Default: IMPLEMENTOR_DEVICE (auto)."),
]


def face(
    seed: Annotated[int | None, typer.Option(help="Face seed; the same seed always draws the same face.")] = None,
    out: Annotated[Path, typer.Option(help="Where to write the PNG.")] = Path("face.png"),
    size: Annotated[int | None, typer.Option(help="PNG side in px. Default: IMPLEMENTOR_FACE_PNG_SIZE.")] = None,
    model: ModelOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Draw one face and write it as a PNG."""
    from implementor.models.face.generator import FaceGenerator

    settings = get_settings()
    if seed is None:
        seed = secrets.randbelow(2**31)
        typer.echo(f"no --seed given; using seed {seed}")
    size = size or settings.face_png_size
    if not 16 <= size <= 4096:
        raise InputError(f"--size must be between 16 and 4096 px, got {size}")
    generator = FaceGenerator.load(model or settings.face_model, device or settings.device)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(generator.png(seed, size))
    done(f"face for seed {seed} ({size}x{size} px) written", out)


def prepare(
    photos_dir: Annotated[Path, typer.Argument(help="Folder of photos (searched recursively).")],
    out_dir: Annotated[Path, typer.Argument(help="Where the square face crops go (PNG).")],
    size: Annotated[int, typer.Option(help="Side of each crop in px.")] = 64,
    margin: Annotated[float, typer.Option(help="Extra room around the detected face, as a share of its box.")] = 0.2,
) -> None:
    """Find the face in every photo, crop it square and resize it, ready for `train face`."""
    from implementor.training.face.prepare import prepare_photos

    report = prepare_photos(photos_dir, out_dir, size=size, margin=margin)
    for path in report.unreadable:
        typer.secho(f"unreadable, skipped: {path}", fg=typer.colors.YELLOW, err=True)
    typer.echo(report.summary())
    if not report.written:
        raise DataError(f"no face crops were written: no faces were found in {photos_dir}")
    done(f"{len(report.written)} crops written", out_dir)


def train(
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write (or continue with --resume).")],
    data: Annotated[str | None, typer.Option(help="`lfw` (built in) or a folder of face crops. Default: lfw, "
                                             "or the checkpoint's own data when resuming.")] = None,
    steps: Annotated[int, typer.Option(help="Total training steps (a resumed run counts its earlier ones).")] = 6000,
    batch_size: Annotated[int, typer.Option(help="Images per step.")] = 32,
    image_size: Annotated[int, typer.Option(help="32 or 64 px.")] = 32,
    channels: Annotated[
        int | None, typer.Option(help="1 (gray) or 3 (RGB). Default: 1 for lfw, 3 for a folder.")
    ] = None,
    nz: Annotated[int, typer.Option(help="Latent size.")] = 100,
    ngf: Annotated[int, typer.Option(help="Generator width.")] = 64,
    ndf: Annotated[int, typer.Option(help="Discriminator width.")] = 64,
    sample_every: Annotated[int, typer.Option(help="Write a fixed-noise sample grid every K steps.")] = 500,
    checkpoint_every: Annotated[int, typer.Option(help="Save a resumable checkpoint every K steps.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for initialisation, batches and augmentation.")] = 0,
    device: DeviceOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue the checkpoint in --out from its last step.")] = False,
) -> None:
    """Train the face DCGAN (Adam 2e-4, betas 0.5/0.999, non-saturating loss)."""
    from implementor.training.face.train import FaceTrainConfig, FaceTrainSpec, run_face_training

    if steps < 1 or batch_size < 1 or sample_every < 1 or checkpoint_every < 1:
        raise InputError("--steps, --batch-size, --sample-every and --checkpoint-every must be positive")
    run = FaceTrainConfig(steps=steps, batch_size=batch_size, sample_every=sample_every,
                          checkpoint_every=checkpoint_every, seed=seed, device=device or get_settings().device)
    card = run_face_training(FaceTrainSpec(out, data, image_size, channels, nz, ngf, ndf, run, resume, command_line()))
    typer.echo(json.dumps(card.get("metrics", {}), indent=2))
    done("checkpoint written (samples.png and losses.png beside it)", out)


def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="Face checkpoint directory.")],
    n: Annotated[int, typer.Option(help="How many faces to sample.")] = 500,
    data: Annotated[str | None, typer.Option(help="Real faces to compare with. Default: the checkpoint's own.")] = None,
    out: Annotated[Path | None, typer.Option(help="JSON to write. Default: CHECKPOINT/eval_face.json.")] = None,
    seed: Annotated[int, typer.Option(help="First sample seed.")] = 0,
    record: Annotated[bool, typer.Option(help="Also record the figures in the checkpoint's card.json.")] = False,
    device: DeviceOpt = None,
) -> None:
    """Face rate, diversity and memorisation of generated faces, side by side with real ones."""
    from implementor.models.common.checkpoint import CARD_FILE, read_json, write_json
    from implementor.models.face.generator import FaceGenerator
    from implementor.training.face.data import load_face_data
    from implementor.training.face.eval import evaluate_generator

    if not 2 <= n <= 100_000:
        raise InputError(f"--n must be between 2 and 100000, got {n}")
    model = FaceGenerator.load(checkpoint, device or get_settings().device)
    data = data or model.card.get("data", {}).get("source", "lfw")
    face_data = load_face_data(data, model.config.image_size, model.config.channels)
    report = {"checkpoint": str(checkpoint), "data": data, **evaluate_generator(model, face_data, n, seed).to_dict()}
    out = out or checkpoint / "eval_face.json"
    write_json(out, report)
    if record:
        card = read_json(checkpoint / CARD_FILE, "model card")
        card.setdefault("metrics", {})["eval"] = {k: v for k, v in report.items() if k != "checkpoint"}
        card["metrics"]["eval"]["command"] = command_line()
        write_json(checkpoint / CARD_FILE, card)
    typer.echo(json.dumps(report, indent=2))
    verdict = "meets" if report["passed"] else "misses"
    done(f"evaluation written ({verdict} the bundled-model bars)", out)
