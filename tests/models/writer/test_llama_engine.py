"""The writer on llama.cpp: its GGUF copy, parity with the PyTorch reference, seeds, batching, fallback."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import torch

from implementor.contracts.errors import ConfigError
from implementor.models.writer import engine_choice as engines
from implementor.models.writer import llama_engine
from implementor.models.writer.base import _packaged_file
from implementor.models.writer.engine_choice import load_engine
from implementor.models.writer.llama_file import GGUF_FILE, write_gguf
from implementor.models.writer.model import SamplingSettings, Writer
from implementor.models.writer.repetition import Repetition
from implementor.models.writer.sampling import pick
from implementor.models.writer.torch_engine import TorchEngine
from implementor.training.writer.finetune import FineTuneConfig, FineTuneSpec, finetune
from tests.support.likelihood import mean_log_likelihood

GREEDY = SamplingSettings(top_k=1, max_new_tokens=16)
REQUESTS = ["Could someone help us plan the launch?",
            "We need someone to inspect the ventilation systems before the refit at Harbour Mills next spring."]


def test_a_gguf_copy_reads_back_into_the_same_weights(tiny_llama_base: Path, tmp_path: Path) -> None:
    """The rotary reordering of the query and key rows is undone by transformers' own GGUF loader."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_base), use_safetensors=True, dtype=torch.float32)
    write_gguf(model, _packaged_file("smollm2"), tmp_path / "copy.gguf", "F32")
    back = AutoModelForCausalLM.from_pretrained(str(tmp_path), gguf_file="copy.gguf", dtype=torch.float32)
    ours, theirs = model.state_dict(), back.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_an_unknown_quantisation_or_family_is_refused(tiny_llama_base: Path, tiny_gpt2_base: Path,
                                                      tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    llama = AutoModelForCausalLM.from_pretrained(str(tiny_llama_base), use_safetensors=True)
    with pytest.raises(ConfigError, match="unknown GGUF quantisation"):
        write_gguf(llama, _packaged_file("smollm2"), tmp_path / "x.gguf", "Q3")
    gpt2 = AutoModelForCausalLM.from_pretrained(str(tiny_gpt2_base), use_safetensors=True)
    with pytest.raises(ConfigError, match="Llama-family"):
        write_gguf(gpt2, _packaged_file("smollm2"), tmp_path / "x.gguf")


@pytest.mark.parametrize(("quantisation", "expected"), [
    ("Q8_0", {"token_embd": "Q8_0", "attn_q": "Q8_0", "ffn_up": "Q8_0"}),
    ("Q4_0", {"token_embd": "Q8_0", "attn_q": "Q4_0", "ffn_up": "Q4_0"}),
    ("Q4_0_FFN", {"token_embd": "Q8_0", "attn_q": "Q8_0", "ffn_up": "Q4_0", "ffn_down": "Q4_0"}),
])
def test_each_quantisation_writes_its_matrices_in_their_types(tiny_llama_base: Path, tmp_path: Path,
                                                               quantisation: str, expected: dict[str, str]) -> None:
    import gguf
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_base), use_safetensors=True, dtype=torch.float32)
    path = write_gguf(model, _packaged_file("smollm2"), tmp_path / "copy.gguf", quantisation)
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(str(path)).tensors}
    for part, kind in expected.items():
        named = {n: k for n, k in types.items() if part in n and n.endswith(".weight")}
        assert named and set(named.values()) == {kind}, (part, named)
    assert {k for n, k in types.items() if "norm" in n} == {"F32"}


def test_top_k_picks_only_among_the_k_best_in_softmax_proportion() -> None:
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.9, -1.0, 2.0]]).repeat(4000, 1)
    settings = SamplingSettings(temperature=1.0, top_k=3, max_new_tokens=4)
    tokens = pick(logits.clone(), Repetition(4000, 6, 1.0, 0, torch.device("cpu")), settings,
                  torch.Generator().manual_seed(0), eos=0, forbid_end=False)
    counts = torch.bincount(tokens, minlength=6).float() / 4000
    expected = torch.zeros(6)
    expected[[1, 3, 5]] = torch.tensor([3.0, 2.9, 2.0]).softmax(-1)
    assert torch.allclose(counts, expected, atol=0.03), counts
    nucleus = SamplingSettings(temperature=1.0, top_k=3, top_p=0.3, max_new_tokens=4)
    only = pick(logits[:50].clone(), Repetition(50, 6, 1.0, 0, torch.device("cpu")), nucleus,
                torch.Generator().manual_seed(0), eos=0, forbid_end=False)
    assert set(only.tolist()) == {1}  # the best token alone crosses p


needs_llama_cpp = pytest.mark.skipif(not llama_engine.llama_cpp_available(),
                                     reason="llama-cpp-python is not built here (requirements/build_llama_cpp.sh)")


def _spec(out: Path, base: Path, corpus: Path) -> FineTuneSpec:
    config = FineTuneConfig(steps=3, batch_size=2, block_size=64, eval_every=3, eval_blocks=4, lr=1e-2,
                            device="cpu", bf16=False)
    return FineTuneSpec(out, str(base), corpus, lora_r=4, train=config, command="test")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def writer(tiny_llama_gguf_base: Path, mini_corpus: Path, cache: Path, tmp_path_factory: pytest.TempPathFactory,
           monkeypatch: pytest.MonkeyPatch) -> Writer:
    """A LoRA writer on the tiny GGUF base, loaded through its cache (merged model, GGUF copy)."""
    monkeypatch.setenv("IMPLEMENTOR_CACHE_DIR", str(cache))
    out = cache / "writer"
    if not out.exists():
        finetune(_spec(out, tiny_llama_gguf_base, mini_corpus), progress=False)
    return Writer.load(out, "cpu")


@pytest.fixture()
def float32_copy(writer: Writer, tmp_path: Path) -> Writer:
    """The same writer served from a float32 GGUF copy: the engine's arithmetic, without quantisation."""
    assert writer.served_from is not None
    write_gguf(writer.model, writer.served_from / GGUF_FILE, tmp_path / GGUF_FILE, "F32")
    return Writer(writer.model, writer.tokenizer, writer.device, writer.card, writer.path, tmp_path)


def prompts(writer: Writer) -> list[list[int]]:
    texts = [writer.format.cv("Ada Lovelace", "Data Scientist")] + [writer.format.reply(r) for r in REQUESTS]
    return [writer.tokenizer(t)["input_ids"] for t in texts]


@needs_llama_cpp
def test_the_cache_holds_a_gguf_copy_and_auto_picks_llama_cpp(writer: Writer) -> None:
    assert writer.served_from is not None and (writer.served_from / GGUF_FILE).is_file()
    assert load_engine(writer, "auto").name == "llama.cpp"


def test_a_build_killed_midway_leaves_nothing_behind_once_the_cache_is_built_again(writer: Writer) -> None:
    assert writer.served_from is not None
    entry = writer.served_from
    stale = entry.with_name(f".{entry.name}.4242.tmp")  # what a build SIGKILLed in process 4242 left
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half a model")
    shutil.rmtree(entry)  # and the entry itself is gone: the next load builds it again
    again = Writer.load(writer.path, "cpu")
    assert again.served_from == entry and (entry / GGUF_FILE).is_file() and not stale.exists()


@needs_llama_cpp
@pytest.mark.parametrize("repetition", [(1.0, 0), (1.3, 0), (1.0, 3)])
def test_greedy_drafts_are_the_torch_paths_token_for_token(float32_copy: Writer,
                                                          repetition: tuple[float, int]) -> None:
    penalty, ngram = repetition
    settings = SamplingSettings(top_k=1, max_new_tokens=24, repetition_penalty=penalty, no_repeat_ngram_size=ngram)
    batch = prompts(float32_copy)
    fast = llama_engine.LlamaCppEngine(float32_copy).sample(batch, 2, settings, seed=0, min_new_tokens=24)
    slow = TorchEngine(float32_copy).sample(batch, 2, settings, seed=0, min_new_tokens=24)
    assert fast == slow
    for rows, _ in fast:
        assert rows[0] == rows[1]  # every draft reads its prompt, not only the first


@needs_llama_cpp
def test_quantised_greedy_drafts_mostly_agree(writer: Writer) -> None:
    """The shipped Q8_0 copy: its greedy tokens are the float32 model's for most positions."""
    batch = prompts(writer)
    fast = llama_engine.LlamaCppEngine(writer).sample(batch, 1, GREEDY, seed=0, min_new_tokens=16)
    slow = TorchEngine(writer).sample(batch, 1, GREEDY, seed=0, min_new_tokens=16)
    pairs = [(a, b) for f, s in zip(fast, slow, strict=True) for a, b in zip(f[0][0], s[0][0], strict=True)]
    assert sum(a == b for a, b in pairs) >= 0.75 * len(pairs)


@needs_llama_cpp
def test_sampled_drafts_are_as_likely_as_the_torch_paths(writer: Writer) -> None:
    settings = SamplingSettings(max_new_tokens=24)
    prompt = prompts(writer)[1]
    engine = llama_engine.LlamaCppEngine(writer)
    fast = [d for seed in range(4) for d in engine.sample([prompt], 64, settings, seed)[0][0]]
    slow = [d for seed in range(4) for d in TorchEngine(writer).sample([prompt], 64, settings, seed)[0][0]]
    a, b = mean_log_likelihood(writer, prompt, fast), mean_log_likelihood(writer, prompt, slow)
    assert abs(a - b) <= 0.03 * abs(b), (a, b)


@needs_llama_cpp
def test_a_seed_gives_the_same_drafts_and_no_seed_fresh_ones(writer: Writer) -> None:
    engine, batch, settings = llama_engine.LlamaCppEngine(writer), prompts(writer), SamplingSettings(max_new_tokens=24)
    assert engine.sample(batch, 3, settings, 5) == engine.sample(batch, 3, settings, 5)
    assert engine.sample(batch, 3, settings, None) != engine.sample(batch, 3, settings, None)


@needs_llama_cpp
def test_more_drafts_than_one_batch_holds_come_back_in_order(writer: Writer) -> None:
    engine = llama_engine.LlamaCppEngine(writer, max_rows=4)
    batch = prompts(writer)
    alone = [engine.sample([p], 3, GREEDY, 0, min_new_tokens=8) for p in batch]
    assert engine.sample(batch, 3, GREEDY, 0, min_new_tokens=8) == [a[0] for a in alone]


@needs_llama_cpp
def test_following_the_drafting_changes_no_draft_and_spans_every_batch_in_order(writer: Writer) -> None:
    """Progress over several llama.cpp batches (max_rows 4: one prompt's 3 drafts each) only grows, to at most 1."""
    engine, batch, settings = llama_engine.LlamaCppEngine(writer, max_rows=4), prompts(writer), \
        SamplingSettings(max_new_tokens=24)
    shares: list[float] = []
    assert engine.sample(batch, 3, settings, 5, progress=shares.append) == engine.sample(batch, 3, settings, 5)
    assert shares == sorted(shares) and 0 < shares[0] and shares[-1] <= 1
    assert any(s > 1 / len(batch) for s in shares)  # the later batches carry on from where the first ended


@needs_llama_cpp
def test_auto_falls_back_when_llama_cpp_is_missing_or_cannot_load(writer: Writer, monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(engines, "llama_cpp_available", lambda: False)  # as the engine choice sees it
    assert load_engine(writer, "auto").name == "ctranslate2"
    with pytest.raises(ConfigError, match="llama-cpp-python is not installed"):
        load_engine(writer, "llama.cpp")
    monkeypatch.undo()

    def broken(*_: object) -> None:
        raise OSError("libllama.so: cannot open shared object file")

    monkeypatch.setattr(llama_engine.LlamaCppEngine, "__init__", broken)
    with caplog.at_level(logging.WARNING, logger=engines.__name__):
        assert load_engine(writer, "auto").name == "ctranslate2"
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "llama.cpp could not load the writer" in caplog.records[0].message


@needs_llama_cpp
def test_long_drafts_fit_their_sequences_of_the_cache(writer: Writer) -> None:
    """llama.cpp gives each sequence a whole number of 256 cells: a draft longer than 256 tokens still fits."""
    settings = SamplingSettings(max_new_tokens=300)
    [(rows, _)] = llama_engine.LlamaCppEngine(writer).sample(prompts(writer)[:1], 2, settings, 0, min_new_tokens=300)
    assert [len(r) for r in rows] == [300, 300]


@needs_llama_cpp
def test_a_stop_rule_ends_a_draft_at_the_line_it_is_met_in_both_loops(float32_copy: Writer) -> None:
    from implementor.models.writer.sampling import StopWhen

    stop = StopWhen(float32_copy, lambda complete: True)  # done as soon as a line is complete
    settings = SamplingSettings(top_k=1, max_new_tokens=48)
    batch = prompts(float32_copy)
    fast = llama_engine.LlamaCppEngine(float32_copy).sample(batch, 2, settings, 0, stop=stop)
    slow = TorchEngine(float32_copy).sample(batch, 2, settings, 0, stop=stop)
    assert fast == slow
    for rows, ended in fast:
        for row, done in zip(rows, ended, strict=True):
            lines_end = [i for i, t in enumerate(row) if t in float32_copy.line_ends]
            assert not lines_end or (lines_end == [len(row) - 1] and done)  # stopped at its first line break


@needs_llama_cpp
def test_the_weaker_drafts_stop_once_every_draft_is_ready_and_the_best_go_on(writer: Writer) -> None:
    """A prune scores each prompt's drafts once all are ready (here: after their 4th token), and only the
    best `keep` go on; the others come back empty (no draft), and the scorer hears each prompt once."""
    from implementor.models.writer.sampling import Prune, StopWhen

    heard: list[tuple[int, list[str]]] = []

    def score(prompt: int, texts: list[str]) -> list[float]:
        heard.append((prompt, texts))
        return [float(-i) for i in range(len(texts))]  # the first drafts are the best

    stop = StopWhen(writer, lambda _: False, Prune(ready=lambda _: True, score=score, keep=2))
    stop.lines = lambda ids: "ready" if len(ids) == 4 else None  # type: ignore[method-assign]
    batch = prompts(writer)
    engine = llama_engine.LlamaCppEngine(writer, max_rows=8)  # two calls: the prompt index must follow
    samples = engine.sample(batch, 4, SamplingSettings(max_new_tokens=24), 3, min_new_tokens=24, stop=stop)
    assert [[len(row) for row in rows] for rows, _ in samples] == [[24, 24, 0, 0]] * len(batch)
    assert [prompt for prompt, _ in heard] == list(range(len(batch)))
    assert all(len(texts) == 4 and all(texts) for _, texts in heard)
    unpruned = engine.sample(batch, 4, SamplingSettings(max_new_tokens=24), 3, min_new_tokens=24)
    first_call = zip(unpruned[:2], samples[:2], strict=True)  # later calls draw from where the pruned one left off
    assert all(rows[i][:4] == kept[i][:4] for (rows, _), (kept, _) in first_call for i in range(2))


@needs_llama_cpp
def test_the_quantisation_benchmark_weighs_every_copy_by_likelihood_and_speed(writer: Writer, mini_corpus: Path,
                                                                              tmp_path: Path) -> None:
    from bench import quantisation

    result = quantisation.run_benchmark(1, 2, tmp_path / "q.json", writer=writer, corpus=mini_corpus)
    assert set(result["nll"]) == {"Q8_0", "Q4_1", "Q4_0_FFN", "Q4_0", "F32"}
    assert result["nll_over_f32"]["F32"] == {"cv": 1.0, "reply": 1.0}
    assert all(v > 0 for tasks in result["nll"].values() for v in tasks.values())
    assert result["speed_over_q8_0"]["Q8_0"] == {"cv_4x128": 1.0, "reply_6x64": 1.0, "batch_16x6x32": 1.0}
    sizes = result["weights_mb"]  # the tiny writer is mostly its (8-bit) embedding
    assert sizes["F32"] > sizes["Q8_0"] >= sizes["Q4_0_FFN"] >= sizes["Q4_0"] > 0


@needs_llama_cpp
def test_kept_drafts_go_on_one_at_a_time_and_a_held_one_resumes_where_it_stopped(float32_copy: Writer) -> None:
    """With `enough`, the best kept draft goes on alone and the next is held; it resumes, from its own
    cells and the token it had picked, only if the first is not enough. Greedy on a float32 copy, two
    drafts of one prompt are the same text: the held one, resumed, must write exactly what its twin did
    (repetition control on, so that the text varies and the rebuilt repetition state counts too)."""
    from implementor.models.writer.pruning import Prune
    from implementor.models.writer.sampling import StopWhen

    greedy = SamplingSettings(top_k=1, max_new_tokens=20, repetition_penalty=1.3, no_repeat_ngram_size=2)
    judged: list[str] = []

    def enough(verdict: bool) -> Prune:
        def said(_prompt: int, text: str, _finished: bool) -> bool:
            judged.append(text)
            return verdict

        return Prune(ready=lambda _: True, keep=2, enough=said,
                     score=lambda _, texts: [float(-i) for i in range(len(texts))])  # row 0 first, then row 1

    def stop(prune: Prune) -> StopWhen:
        when = StopWhen(float32_copy, lambda _: False, prune)
        when.lines = lambda ids: "ready" if len(ids) == 5 else None  # type: ignore[method-assign]
        return when

    engine = llama_engine.LlamaCppEngine(float32_copy)
    [cv] = prompts(float32_copy)[:1]
    shares: list[float] = []
    [(rows, ended)] = engine.sample([cv], 3, greedy, 0, min_new_tokens=20, stop=stop(enough(False)),
                                    progress=shares.append)
    assert len(rows[0]) == 20 and rows[1] == rows[0] and rows[2] == []  # the twin resumed, the third ended
    assert shares == sorted(shares) and 0 < shares[0] and shares[-1] <= 1  # past the budget's steps, still <= 1
    assert len(set(rows[0])) > 10 and len(judged) == 1  # the last held draft resumes: nothing left to judge
    judged.clear()
    [(rows, _)] = engine.sample([cv], 3, greedy, 0, min_new_tokens=20, stop=stop(enough(True)))
    assert len(rows[0]) == 20 and rows[1] == rows[2] == [] and len(judged) == 1
    [(alone, _)] = engine.sample([cv], 1, greedy, 0, min_new_tokens=20)
    assert alone[0] == rows[0]  # as a draft written by itself


@needs_llama_cpp
def test_the_decode_benchmark_holds_the_file_equal_between_the_engine_and_plain_llama_cpp(writer: Writer,
                                                                                           tmp_path: Path) -> None:
    """On a writer with a GGUF base, the engine is timed on the base's own file too, beside plain llama.cpp on it."""
    from bench import decode_latency

    result = decode_latency.run_benchmark(1, tmp_path / "decode.json", steps=4, writer_path=writer.path)
    assert {"project", "llama_plain", "project_base", "llama_plain_base"} <= set(result["ms_per_step"])
    assert result["weights"]["project_base"] == result["weights"]["llama_plain_base"]
    assert result["project_base_over_llama_plain_base"] > 0
