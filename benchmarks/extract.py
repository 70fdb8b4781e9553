"""Rules extraction throughput: MB of transcript per second, and per-document latency.

Transcripts are generated deterministically: several speakers, mostly small talk, with
decisions, tasks, incidents and facts at a realistic rate (about one line in six). The
baseline is a single pass of Python's `str.splitlines` over the same text, the floor for
any line-oriented reader. Model backends are measured in benchmarks/extract_models.py.

    python benchmarks/extract.py [--mb 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from mindmem.extract.base import Context
from mindmem.extract.rules import RulesExtractor
from mindmem.store.snapshot import Snapshot

SPEAKERS = ["Alice", "Bob", "Priya", "Chen", "Dana", "Omar"]
CHATTER = [
    "Can everyone hear me?",
    "The slides are on the shared drive.",
    "I think the numbers look fine, though the graph on page four is odd.",
    "Let me share my screen.",
    "Sorry, I was on mute.",
    "That makes sense to me.",
    "We looked at three options last week and compared the costs.",
    "The dashboard shows the latency went up a bit after the holiday.",
]
TOPICS = ["the billing export", "the search index", "the auth service", "the deploy pipeline", "the data warehouse"]
TOOLS = ["PostgreSQL", "Kafka", "Redis", "Kubernetes", "Terraform", "GitHub Actions"]
SIGNALS = [
    "We decided to use {tool} for {topic}.",
    "From now on, every change to {topic} needs a second reviewer.",
    "Action item: {other} will draft the migration plan for {topic} by Friday.",
    "TODO: update the runbook for {topic} in two weeks.",
    "{topic_cap} went down on Saturday and we were paged at night.",
    "For the record, {topic} runs on {tool} in the eu-west cluster.",
    "Let's go with {tool} for {topic} from next month.",
]


def transcript(rng: random.Random, lines: int) -> str:
    out = []
    for _ in range(lines):
        speaker = rng.choice(SPEAKERS)
        if rng.random() < 1 / 6:
            topic = rng.choice(TOPICS)
            text = rng.choice(SIGNALS).format(
                tool=rng.choice(TOOLS), topic=topic, topic_cap=topic[0].upper() + topic[1:],
                other=rng.choice(SPEAKERS),
            )  # fmt: skip
        else:
            text = " ".join(rng.sample(CHATTER, 2))
        out.append(f"{speaker}: {text}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="megabytes of transcript in total")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    docs = []
    size = 0
    while size < args.mb * 1_000_000:
        docs.append(transcript(rng, 200))
        size += len(docs[-1].encode())
    extractor = RulesExtractor()
    context = Context(date(2026, 11, 24), Snapshot(None), "bench")
    times, found = [], 0
    for doc in docs:
        start = time.perf_counter()
        found += len(extractor.extract(doc, context).candidates)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    for doc in docs:
        doc.splitlines()
    floor = time.perf_counter() - start
    total = sum(times)
    times.sort()
    print(f"{len(docs)} transcripts of 200 lines, {size / 1e6:.2f} MB, {found} candidates\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| rules throughput | {size / 1e6 / total:.2f} MB/s |")
    print(f"| per transcript (about {size // len(docs) // 1000} KB) p50 | {times[len(times) // 2] * 1000:.1f} ms |")
    print(f"| per transcript p95 | {times[int(len(times) * 0.95)] * 1000:.1f} ms |")
    print(f"| baseline: splitlines only | {size / 1e6 / floor:.0f} MB/s |")


if __name__ == "__main__":
    main()
