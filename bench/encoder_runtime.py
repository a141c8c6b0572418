"""The reranker's encoder on other runtimes: is one worth adopting? (`python -m bench encoder`)

The heads read the mean of several hidden layers of all-MiniLM-L6-v2 for each (prompt, draft) pair,
so a runtime must give the intermediate layers, not only the last one. Timed in one run, medians of
interleaved repeats, on the reranker's real workload (8 drafts of one CV prompt, one batch):

- the project's path: PyTorch, float32 (what the workers run);
- PyTorch with dynamic int8 quantisation of its Linear layers (no new dependency);
- ONNX Runtime, float32 and dynamic int8, exporting every hidden state (if `onnxruntime`, `onnx` and
  `onnxscript` are installed; they are not project dependencies);
- CTranslate2's encoder is not timed: it returns the last hidden state only, which the heads cannot use.

Each runtime's features are compared with the float32 ones (the heads were trained on those): the
largest change in the realism head's logit over the drafts is reported beside the speed, and the
share of a whole `project` job that scoring takes puts the speed-up in proportion.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bench.common import write_result
from implementor.models.common.encoder import SentenceEncoder
from implementor.models.rerank.head import PairScorer
from implementor.models.rerank.reranker import BUNDLED_REALISM
from implementor.training.corpus.splits import BUNDLED_CORPUS, load_split

Features = Callable[[dict[str, torch.Tensor]], torch.Tensor]


def workload(encoder: SentenceEncoder, n: int = 8) -> dict[str, torch.Tensor]:
    from implementor.contracts.records import CVRecord
    from implementor.models.writer.prompts import judge_prompt_cv

    cvs = [r for r in load_split(BUNDLED_CORPUS, "test") if isinstance(r, CVRecord)][:n]
    return encoder.tokenize_pairs([judge_prompt_cv(cv.name, cv.title) for cv in cvs], [cv.body for cv in cvs], 512)


def pooled(states: list[torch.Tensor], mask: torch.Tensor, layers: tuple[int, ...]) -> torch.Tensor:
    weights = mask.unsqueeze(-1).float()
    return torch.cat([(states[i] * weights).sum(1) / weights.sum(1).clamp(min=1.0) for i in layers], dim=-1)


def onnx_runtimes(encoder: SentenceEncoder, batch: dict[str, torch.Tensor], layers: tuple[int, ...],
                  folder: Path) -> dict[str, Features]:
    """ONNX Runtime sessions (float32 and dynamic int8) for the encoder with every hidden state, if installed."""
    try:
        import onnxruntime
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return {}

    class AllStates(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
                    ) -> tuple[torch.Tensor, ...]:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                             output_hidden_states=True)
            return tuple(out.hidden_states)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32, int8 = folder / "encoder.onnx", folder / "encoder-int8.onnx"
    torch.onnx.export(AllStates(encoder.model).eval(), tuple(batch[k] for k in names), str(fp32), input_names=names,
                      dynamic_axes={k: {0: "batch", 1: "tokens"} for k in names}, dynamo=False)
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    out: dict[str, Features] = {}
    for label, path in (("onnxruntime_float32", fp32), ("onnxruntime_int8", int8)):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        out[label] = _session_features(session, names, layers)
    return out


def _session_features(session: Any, names: list[str], layers: tuple[int, ...]) -> Features:
    def run(b: dict[str, torch.Tensor]) -> torch.Tensor:
        states = session.run(None, {k: b[k].numpy() for k in names})
        return pooled([torch.from_numpy(s) for s in states], b["attention_mask"], layers)

    return run


def runtimes(encoder: SentenceEncoder, batch: dict[str, torch.Tensor], layers: tuple[int, ...], folder: Path
             ) -> dict[str, Features]:
    quantised = torch.ao.quantization.quantize_dynamic(encoder.model, {torch.nn.Linear}, dtype=torch.qint8)

    def torch_path(model: torch.nn.Module) -> Features:
        @torch.inference_mode()
        def run(b: dict[str, torch.Tensor]) -> torch.Tensor:
            return pooled(list(model(**b, output_hidden_states=True).hidden_states), b["attention_mask"], layers)

        return run

    return {"torch_float32": torch_path(encoder.model), "torch_dynamic_int8": torch_path(quantised),
            **onnx_runtimes(encoder, batch, layers, folder)}


def run_benchmark(repeats: int, out: Path) -> dict[str, Any]:
    torch.manual_seed(0)
    encoder = SentenceEncoder.load("all-MiniLM-L6-v2", "cpu")
    head = PairScorer.load(BUNDLED_REALISM, encoder, "realism", "cpu")
    layers = tuple(head.config.layers)
    batch = workload(encoder)
    with tempfile.TemporaryDirectory() as scratch:
        paths = runtimes(encoder, batch, layers, Path(scratch))
        reference = paths["torch_float32"](batch)
        logits = head.logits_from_features(reference)
        times: dict[str, list[float]] = {k: [] for k in paths}
        drift = {k: round(float((head.logits_from_features(f(batch)) - logits).abs().max()), 4)
                 for k, f in paths.items()}
        for _ in range(repeats):  # interleaved, so that a busy moment hits every path alike
            for label, features in paths.items():
                start = time.perf_counter()
                features(batch)
                times[label].append(time.perf_counter() - start)
    median = {k: statistics.median(v) for k, v in times.items()}
    speedup = {k: round(median["torch_float32"] / v, 2) for k, v in median.items()}
    result: dict[str, Any] = {
        "benchmark": "encoder_runtime", "workload": f"{len(reference)} (prompt, CV) pairs, one batch, layers {layers}",
        "repeats": repeats, "ms": {k: round(v * 1000, 1) for k, v in median.items()},
        "speedup_over_torch_float32": speedup,
        "max_realism_logit_change": drift,
        "ctranslate2": "not applicable: its encoder returns the last hidden state only; the heads read layers "
                       f"{layers}",
    }
    print("encoder runtimes: " + ", ".join(f"{k} {v}x (logit change {drift[k]})" for k, v in speedup.items()))
    return write_result(result, out)
