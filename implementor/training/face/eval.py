"""Judging a face generator against real faces: does it draw faces, varied ones, and its own ones?

Three measures, each reported side by side for generated and real images:
- face rate: the share of images in which OpenCV's Haar cascade, an independent detector, finds a
  face (see detect.looks_like_face); uniform noise is reported too, as the floor;
- diversity: the mean pairwise distance between samples, against the same among real faces; a
  collapsed generator scores near zero;
- memorisation: each sample's distance to its nearest training image, against the same for held-out
  real faces. A generator that copies its training set sits much closer to it than new real faces do.

Distances are root-mean-square pixel differences in [0, 1] units at the model's resolution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from implementor.models.face.generator import FaceGenerator, to_uint8
from implementor.training.face.data import FaceData
from implementor.training.face.detect import face_rate

log = logging.getLogger(__name__)

# The acceptance bars for the bundled model (issue #2).
BARS = {"face_rate": 0.6, "diversity_ratio": 0.5, "memorisation_ratio": 0.8}


def _unit(images: torch.Tensor) -> torch.Tensor:
    """(N, C, S, S) in [-1, 1] -> (N, C*S*S) in [0, 1], float64 for stable distances."""
    return ((images.double().clamp(-1, 1) + 1.0) / 2.0).flatten(1)


def rms_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise RMS distances between the rows of two (N, C, S, S) batches: (Na, Nb)."""
    x, y = _unit(a), _unit(b)
    return torch.cdist(x, y) / x.shape[1] ** 0.5


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean RMS distance over all distinct pairs."""
    n = len(images)
    if n < 2:
        raise ValueError("diversity needs at least two images")
    d = rms_distances(images, images)
    return float(d.sum() / (n * (n - 1)))


def nearest_distances(queries: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """For each query, the RMS distance to its nearest reference image: (Nq,)."""
    return rms_distances(queries, reference).min(dim=1).values


def _face_rate(images: torch.Tensor) -> float:
    return face_rate(to_uint8(images))


@dataclass(frozen=True)
class FaceEval:
    n: int
    seed: int
    face_rate: dict[str, float]
    diversity: dict[str, float]
    memorisation: dict[str, float]

    def passes(self) -> dict[str, bool]:
        return {
            "face_rate": self.face_rate["generated"] >= BARS["face_rate"],
            "diversity_ratio": self.diversity["ratio"] >= BARS["diversity_ratio"],
            "memorisation_ratio": self.memorisation["ratio"] >= BARS["memorisation_ratio"],
        }

    def to_dict(self) -> dict[str, Any]:
        passes = self.passes()
        return {
            "n": self.n,
            "seed": self.seed,
            "face_rate": self.face_rate,
            "diversity": self.diversity,
            "memorisation": self.memorisation,
            "bars": BARS,
            "passes": passes,
            "passed": all(passes.values()),
        }


def evaluate_images(generated: torch.Tensor, data: FaceData, seed: int = 0) -> FaceEval:
    """Score generated images (N, C, S, S) in [-1, 1] against a data set's real faces."""
    real = torch.cat([data.train, data.heldout])
    noise = torch.rand(len(real), *real.shape[1:], generator=torch.Generator().manual_seed(seed)) * 2 - 1
    gen_div, real_div = mean_pairwise_distance(generated), mean_pairwise_distance(real)
    gen_nn = float(nearest_distances(generated, data.train).median())
    heldout_nn = float(nearest_distances(data.heldout, data.train).median())
    r = lambda v: round(v, 4)  # noqa: E731 - a local shorthand for the report
    return FaceEval(
        n=len(generated),
        seed=seed,
        face_rate={"generated": r(_face_rate(generated)), "real": r(_face_rate(real)), "noise": r(_face_rate(noise))},
        diversity={"generated": r(gen_div), "real": r(real_div), "ratio": r(gen_div / real_div)},
        memorisation={
            "generated_median_nn": r(gen_nn),
            "heldout_median_nn": r(heldout_nn),
            "ratio": r(gen_nn / heldout_nn),
        },
    )


def evaluate_generator(model: FaceGenerator, data: FaceData, n: int = 500, seed: int = 0) -> FaceEval:
    """Sample n faces (seeds seed..seed+n-1) and score them; see `evaluate_images`."""
    c, s = model.config.channels, model.config.image_size
    if tuple(data.train.shape[1:]) != (c, s, s):
        raise ValueError(f"data images are {tuple(data.train.shape[1:])}, the model draws {(c, s, s)}")
    generated = torch.cat([model.sample(min(256, n - i), seed + i) for i in range(0, n, 256)])
    result = evaluate_images(generated, data, seed)
    log.debug("face eval: %s", result.to_dict())
    return result

