"""Malformed input through every carrier: how much is refused or reported cleanly, and how fast.

    python benchmarks/bad_input.py [--random 260] [--seed 0]

Inputs: the crafted cases of tests/malformed.py (alias bombs of depth 1-12, duplicate keys,
huge numbers, deep nesting, bad bytes, limits ...) plus `--random` damaged copies of a valid
block. Each input goes through every carrier (validate, new -b -, new --set, propose --file -,
propose --file PATH, import markdown, extract, MCP staged_change) in-process, on a fresh copy
of a small memory repo, with an isolated git environment. Printed: inputs and runs, how many
were refused or reported with one line naming the source, exit codes, tracebacks, writes on
refusal, the slowest run, and the alias bomb's parse time at depths 1-12.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from malformed import CARRIERS, CRAFTED, NOTE_PATH, alias_bomb, mutate  # noqa: E402

from mindmem.errors import BlockError  # noqa: E402
from mindmem.store.blocks import parse  # noqa: E402


def isolate(home: Path) -> None:
    """A known git identity and no user or system config, as the tests use."""
    home.mkdir(parents=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    os.environ.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        XDG_CONFIG_HOME=str(home / ".config"),
        MM_HOME=str(home / "mm"),
    )
    for var in ("MM_REPO", "MM_ROOT", "MM_MODE", "MM_GOVERNED_BRANCH", "MM_AUTHOR", "MM_SIGNING_KEY", "MM_MODEL"):
        os.environ.pop(var, None)
    import pygit2

    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = str(home)
    (home / "empty").mkdir()
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.XDG] = str(home / "empty")
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.SYSTEM] = str(home / "empty")


def bomb_times() -> list[tuple[int, float]]:
    out = []
    for depth in range(1, 13):
        data = alias_bomb(depth)
        start = time.perf_counter()
        with contextlib.suppress(BlockError):
            parse(data, NOTE_PATH)
        out.append((depth, time.perf_counter() - start))
    return out


def run(inputs: dict[str, bytes], folder: Path) -> list[tuple[str, object]]:
    from bad_input_helpers import run_bytes

    template = folder / "template"
    template.mkdir()
    assert run_bytes("init", "--commit", cwd=template).code == 0
    results = []
    for n, (label, data) in enumerate(inputs.items()):
        work = folder / f"run{n}"
        repo, scratch = work / "repo", work / "scratch"
        shutil.copytree(template, repo, symlinks=True)
        scratch.mkdir()
        for carrier in CARRIERS.values():
            results.append((label, carrier(repo, data, scratch)))
        shutil.rmtree(work)
    return results


def report(results: list[tuple[str, object]], inputs: int) -> None:
    outcomes = [o for _, o in results]
    refused = [o for o in outcomes if o.refused]  # type: ignore[attr-defined]
    clean = [o for o in refused if not o.problems()]  # type: ignore[attr-defined]
    crashed = [o for o in outcomes if o.crashed or "Traceback" in o.err]  # type: ignore[attr-defined]
    writes = [o for o in refused if o.changed]  # type: ignore[attr-defined]
    slowest = max(outcomes, key=lambda o: o.seconds)  # type: ignore[attr-defined]
    print(f"inputs: {inputs}, carriers: {len(CARRIERS)}, runs: {len(outcomes)}")
    print(f"refused or reported: {len(refused)} runs; with one line naming the source: {len(clean)}", end="")
    print(f" ({100 * len(clean) / max(len(refused), 1):.1f}%)")
    print(f"accepted (exit 0): {len(outcomes) - len(refused)} runs (free text such as bodies and transcripts)")
    print(f"exit codes: {dict(sorted(Counter(o.code for o in outcomes).items()))}")  # type: ignore[attr-defined]
    print(f"tracebacks: {len(crashed)}; writes on refusal: {len(writes)}")
    print(f"slowest run: {slowest.seconds:.3f} s ({slowest.carrier})")  # type: ignore[attr-defined]
    per_input = Counter()
    for label, outcome in results:
        per_input[label] += outcome.seconds  # type: ignore[attr-defined]
    label, seconds = per_input.most_common(1)[0]
    print(f"slowest input over all carriers: {seconds:.3f} s ({label})")
    inputs_refused = {label for label, o in results if o.refused}  # type: ignore[attr-defined]
    print(f"inputs refused or reported by at least one carrier: {len(inputs_refused)} of {inputs}")
    for label, outcome in results:
        for problem in outcome.problems():  # type: ignore[attr-defined]
            print(f"  PROBLEM {label} / {outcome.carrier}: {problem}")  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=260, help="damaged copies of a valid block")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    inputs = dict(CRAFTED)
    inputs.update({f"mutate #{n}": mutate(rng) for n in range(args.random)})
    with tempfile.TemporaryDirectory(prefix="mm-bad-input-") as tmp:
        isolate(Path(tmp) / "home")
        print("alias bomb, parse time by depth (refused at the first anchor):")
        print("  " + "  ".join(f"{d}: {s * 1000:.2f} ms" for d, s in bomb_times()))
        results = run(inputs, Path(tmp))
    report(results, len(inputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
