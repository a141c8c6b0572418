"""The writer on llama.cpp: the fastest engine on a CPU, with every draft of every job in one batch.

`LlamaCppEngine` runs the writer's GGUF copy (`llama_file.py`, built into the cache with the merged
model) through llama-cpp-python's low-level API, and samples for itself:
- each prompt is read once, into one sequence of llama.cpp's KV cache, and its cells are copied to
  its other n-1 drafts (`llama_memory_seq_cp`; each draft has its own stretch of the cache, see
  `_context`);
- every step decodes one token for every unfinished draft of every prompt in one `llama_decode`
  call: many jobs' drafts are parallel sequences of one batch, which is how the worker batches
  jobs that arrive together; a finished draft leaves the batch and frees its cells at once;
- tokens are picked by `sampling.pick_array`, which draws what the reference loop's `pick` draws
  from the same logits: the live repetition settings, temperature, top-k and top-p exactly as in
  PyTorch, and a seeded torch generator, so that the same seed gives the same drafts; its work over
  the vocabulary stays in numpy, so torch's thread pool never competes with llama.cpp's threads.

llama-cpp-python is optional (a source build, `requirements/build_llama_cpp.sh`): without it, or
without a GGUF copy (a GPT-2 writer, a base that is not a GGUF file), `engine.load_engine` picks
the next engine.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any

import numpy as np
import torch

from implementor.contracts.errors import ConfigError
from implementor.models.writer.engine import Samples
from implementor.models.writer.llama_file import GGUF_FILE
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.pruning import Pruning
from implementor.models.writer.repetition import Repetition
from implementor.models.writer.sampling import Progress, StopWhen, pick_array

log = logging.getLogger(__name__)

MAX_ROWS = 128  # drafts decoded together; more are drafted in several batches
PREFILL_TOKENS = 2048  # the most prompt tokens read in one llama_decode call


def llama_cpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except (ImportError, OSError):  # OSError: the package is there but its library cannot load
        return False
    return True


class _Batch:
    """A llama_batch with room for `size` tokens, each in one sequence, filled row by row."""

    def __init__(self, lib: Any, size: int) -> None:
        self.lib, self.size = lib, size
        self.raw = lib.llama_batch_init(size, 0, 1)

    def fill(self, tokens: list[int], positions: list[int], seqs: list[int], outputs: list[bool]) -> None:
        raw = self.raw
        for i, (token, pos, seq, out) in enumerate(zip(tokens, positions, seqs, outputs, strict=True)):
            raw.token[i], raw.pos[i], raw.n_seq_id[i] = token, pos, 1
            raw.seq_id[i][0], raw.logits[i] = seq, out
        raw.n_tokens = len(tokens)

    def free(self) -> None:
        self.lib.llama_batch_free(self.raw)


class LlamaCppEngine:
    name = "llama.cpp"

    def __init__(self, writer: Writer, threads: int | None = None, max_rows: int = MAX_ROWS) -> None:
        import llama_cpp

        path = writer.served_from / GGUF_FILE if writer.served_from is not None else None
        if path is None or not path.is_file():
            raise ConfigError(f"{writer.path} has no GGUF copy for llama.cpp (a Llama-family writer on a GGUF base "
                              "gets one in its cache); set IMPLEMENTOR_WRITER_ENGINE=ctranslate2 or torch")
        self.lib, self.writer, self.max_rows = llama_cpp, writer, max_rows
        self.threads = threads or torch.get_num_threads()
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # its load report is chatter
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = 0
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not self.model:
            raise ConfigError(f"llama.cpp could not load {path}; set IMPLEMENTOR_WRITER_ENGINE=ctranslate2 or torch")
        self.vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(self.model))
        self.ctx: Any = None
        self.shape = (0, 0)  # the context's cells per sequence, and sequences
        self.lock = threading.Lock()  # one context: calls from several threads take turns

    def _context(self, per_row: int, rows: int) -> Any:
        """A context with `rows` sequences of `per_row` cells each (kept, and grown when a call needs more).

        Each sequence has its own stretch of the KV cache (not llama.cpp's unified cache, whose
        attention reads every sequence's cells for every token: 2x slower at 64 drafts), and a
        prompt's cells are copied to its other drafts once, after the prompt is read."""
        lib = self.lib
        if self.ctx is not None and per_row <= self.shape[0] and rows <= self.shape[1]:
            lib.llama_memory_clear(lib.llama_get_memory(self.ctx), True)
            return self.ctx
        if self.ctx is not None:
            lib.llama_free(self.ctx)
        per_row = -(-max(per_row, self.shape[0]) // 256) * 256  # llama.cpp pads a context to 256 cells
        rows = max(rows, self.shape[1])
        params = lib.llama_context_default_params()
        params.n_ctx, params.n_seq_max, params.kv_unified = per_row * rows, rows, False
        params.n_batch = params.n_ubatch = PREFILL_TOKENS
        params.n_threads = params.n_threads_batch = self.threads
        params.no_perf = True
        self.ctx = lib.llama_init_from_model(self.model, params)
        if not self.ctx:
            self.shape = (0, 0)
            raise ConfigError(f"llama.cpp could not make a context of {rows} x {per_row} tokens")
        self.shape = (per_row, rows)
        return self.ctx

    def _logits(self, rows: int) -> np.ndarray:
        pointer = self.lib.llama_get_logits(self.ctx)
        array = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(rows, self.vocab))
        return array.copy()

    def _decode(self, batch: _Batch) -> None:
        status = self.lib.llama_decode(self.ctx, batch.raw)
        if status != 0:
            raise RuntimeError(f"llama_decode failed ({status}): the KV cache is full or the batch is bad")

    def _prefill(self, prompts: list[list[int]], n: int, batch: _Batch) -> np.ndarray:
        """Read each prompt into sequence i*n, share it with its other n-1 rows; (P*n, V) next-token logits."""
        memory = self.lib.llama_get_memory(self.ctx)
        last: list[np.ndarray] = []
        queue = [(i, pos, token) for i, prompt in enumerate(prompts) for pos, token in enumerate(prompt)]
        for start in range(0, len(queue), PREFILL_TOKENS):
            chunk = queue[start : start + PREFILL_TOKENS]
            outputs = [pos == len(prompts[i]) - 1 for i, pos, _ in chunk]
            batch.fill([t for *_, t in chunk], [p for _, p, _ in chunk], [i * n for i, _, _ in chunk], outputs)
            self._decode(batch)
            if any(outputs):
                last.append(self._logits(sum(outputs)))
        for i in range(len(prompts)):
            for row in range(i * n + 1, (i + 1) * n):
                self.lib.llama_memory_seq_cp(memory, i * n, row, -1, -1)
        return np.repeat(np.concatenate(last), n, axis=0)

    def sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, seed: int | None,
               min_new_tokens: int = 0, stop: StopWhen | None = None, progress: Progress | None = None
               ) -> Samples:
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        generator = torch.Generator().manual_seed(seed)
        per_call = max(1, self.max_rows // n)
        out: Samples = []
        with self.lock:
            for start in range(0, len(prompts), per_call):
                chunk = prompts[start : start + per_call]
                share = _share(progress, start / len(prompts), len(chunk) / len(prompts))
                pruning = Pruning(stop, len(chunk), n, offset=start)
                out += self._sample(chunk, n, settings, generator, min_new_tokens, stop, share, pruning)
        return out

    def _sample(self, prompts: list[list[int]], n: int, settings: SamplingSettings, generator: torch.Generator,
                min_new_tokens: int, stop: StopWhen | None, progress: Progress | None, pruning: Pruning) -> Samples:
        eos, rows, budget = self.writer.eos_id, len(prompts) * n, settings.max_new_tokens
        self._context(max(map(len, prompts)) + budget + 1, rows)
        memory = self.lib.llama_get_memory(self.ctx)
        batch = _Batch(self.lib, max(PREFILL_TOKENS, rows))
        try:
            logits = self._prefill(prompts, n, batch)
            written: list[list[int]] = [[] for _ in range(rows)]
            ended = [False] * rows
            active = list(range(rows))
            repetition = Repetition(rows, logits.shape[-1], settings.repetition_penalty,
                                    settings.no_repeat_ngram_size, torch.device("cpu"))
            spent, step = 0.0, 0
            while True:
                tokens = pick_array(logits, repetition, settings, generator, eos, step < min_new_tokens)
                repetition.record(torch.tensor(tokens))
                _take(active, tokens, written, ended, eos, stop, pruning)
                out = {row for row in active if len(written[row]) >= budget}  # ran out of tokens
                decided = pruning.step(written, ended, out)
                for row in decided.dropped:  # a draft that loses: no draft at all
                    ended[row], written[row] = True, []
                for row in {*active, *decided.dropped}:
                    if ended[row] or row in out:
                        self.lib.llama_memory_seq_rm(memory, row, -1, -1)  # its cells freed at once
                going = [row for row in active if not (ended[row] or row in out or row in decided.held)]
                going += decided.resumed  # held rows keep their cells, and the token they picked
                if not going:
                    break
                step += 1
                if progress is not None:  # each row's unwritten budget, held rows' included: never past 1
                    left = sum(budget - len(written[row]) for row in (*going, *pruning.waiting))
                    spent = max(spent, 1.0 - left / (rows * budget))
                    progress(spent)
                repetition = _follow(repetition, active, going, written, settings, logits.shape[-1])
                active = going
                batch.fill([written[row][-1] for row in active],
                           [len(prompts[row // n]) + len(written[row]) - 1 for row in active], active,
                           [True] * len(active))
                self._decode(batch)
                logits = self._logits(len(active))
        finally:
            batch.free()
        return [(written[i * n : (i + 1) * n], ended[i * n : (i + 1) * n]) for i in range(len(prompts))]

    def close(self) -> None:
        if self.ctx is not None:
            self.lib.llama_free(self.ctx)
            self.ctx = None
        if self.model:
            self.lib.llama_model_free(self.model)
            self.model = None

    def __del__(self) -> None:  # a worker's hot reload drops engines; their memory goes with them
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have unloaded the library
            pass


def _take(active: list[int], tokens: list[int], written: list[list[int]], ended: list[bool], eos: int,
          stop: StopWhen | None, pruning: Pruning) -> None:
    """The tokens the active rows have just picked: written down; a row ends at the end token or where
    `stop` says; the pruning hears each row's complete lines."""
    for row, token in zip(active, tokens, strict=True):
        if token != eos:
            written[row].append(token)
        lines = stop.lines(written[row]) if stop is not None and token != eos else None
        ended[row] = token == eos or (stop is not None and lines is not None and stop.done(lines))
        pruning.saw(row, lines)  # a CV past its end, or past its Profile


def _follow(repetition: Repetition, active: list[int], going: list[int], written: list[list[int]],
            settings: SamplingSettings, vocab: int) -> Repetition:
    """The repetition state of the rows going on: the active rows' own, or rebuilt when held rows rejoin."""
    if set(going) - set(active):
        return Repetition.after([written[row] for row in going], vocab, settings.repetition_penalty,
                                settings.no_repeat_ngram_size, torch.device("cpu"))
    if len(going) < len(active):
        where = {row: index for index, row in enumerate(active)}
        repetition.keep(torch.tensor([where[row] for row in going]))
    return repetition


def _share(progress: Progress | None, offset: float, width: float) -> Progress | None:
    """A call's progress as the part [offset, offset + width] of the whole (drafts decoded in several calls)."""
    if progress is None:
        return None
    report = progress
    return lambda done: report(offset + width * done)


def has_gguf_copy(writer: Writer) -> bool:
    """Whether the directory the writer is served from holds its GGUF copy (for llama.cpp)."""
    return writer.served_from is not None and (writer.served_from / GGUF_FILE).is_file()
