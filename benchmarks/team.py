"""Many machines through one git server: agents on several clones propose through `mm sync`, one person approves.

A real `git daemon` serves a bare repository on 127.0.0.1; each clone is a separate work tree
driven by separate `mm` processes, as on separate machines. Prints proposals per minute and the
time from propose to approved-and-visible on another clone (p50/p95), then checks that every
proposal arrived, every approval verifies on every clone, and no block was lost or duplicated.

    python benchmarks/team.py --agents 4 --rounds 10
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MM = str(Path(sys.executable).with_name("mm"))


@dataclass
class Outcome:
    proposed: dict[str, float] = field(default_factory=dict)  # block ID -> when proposed
    visible: dict[str, float] = field(default_factory=dict)  # block ID -> when seen on main by another clone
    approved: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    clones: list[Path] = field(default_factory=list)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def mm(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MM, *args], cwd=cwd, capture_output=True, text=True, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def git_daemon(base: Path):
    """`git daemon` serving `base` on a free loopback port, push enabled; stopped on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("git daemon did not start")
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def setup(work: Path, url: str, agents: int, signing_key: Path | None) -> tuple[list[Path], Path]:
    """A seeded bare repo behind the daemon, `agents` agent clones and one approver clone."""
    seed = work / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    git(seed, "config", "user.name", "Alice Approver")
    git(seed, "config", "user.email", "alice@example.com")
    args = ["init", "--commit"]
    if signing_key is not None:
        git(seed, "config", "gpg.format", "ssh")
        git(seed, "config", "user.signingkey", str(signing_key))
        args += ["--mode", "enforce", "--signing", "ssh"]
    done = mm(seed, *args)
    if done.returncode:
        raise RuntimeError(done.stderr)
    git(work / "server", "init", "-q", "--bare", "-b", "main", "memory.git")
    git(seed, "push", "-q", f"{url}/memory.git", "main")
    clones = []
    for n in range(agents + 1):
        clone = work / f"clone{n}"
        git(work, "clone", "-q", f"{url}/memory.git", str(clone))
        git(clone, "config", "user.name", "Alice Approver" if n == agents else f"Agent host {n}")
        git(clone, "config", "user.email", "alice@example.com" if n == agents else f"host{n}@example.com")
        if signing_key is not None and n == agents:
            git(clone, "config", "gpg.format", "ssh")
            git(clone, "config", "user.signingkey", str(signing_key))
        clones.append(clone)
    return clones[:agents], clones[agents]


def run(work: Path, url: str, *, agents: int, rounds: int, signing_key: Path | None = None) -> Outcome:
    agent_clones, approver = setup(work, url, agents, signing_key)
    out = Outcome(clones=[*agent_clones, approver])
    lock = threading.Lock()
    done_agents = threading.Event()

    def agent(n: int, clone: Path) -> None:
        for r in range(rounds):
            made = mm(
                clone,
                "propose",
                "--as",
                f"agent:bot{n}",
                "-r",
                f"agent {n} learned thing {r}",
                "--add",
                "note",
                "--set",
                f"title=Agent {n} finding {r}",
                "--json",
            )
            if made.returncode:
                out.errors.append(made.stderr)
                continue
            block = json.loads(made.stdout)["blocks"][0]
            with lock:
                out.proposed[block] = time.monotonic()
            synced = mm(clone, "sync")
            if synced.returncode:
                out.errors.append(synced.stderr)
            watch(clone)

    def watch(clone: Path) -> None:
        """Blocks this agent clone now sees on main were approved on the other machine and travelled back."""
        names = git(clone, "ls-tree", "-r", "--name-only", "main", "memory/notes").split()
        now = time.monotonic()
        with lock:
            for name in names:
                block = Path(name).stem
                if block in out.proposed and block not in out.visible:
                    out.visible[block] = now

    def person() -> None:
        while True:
            finished = done_agents.is_set()
            mm(approver, "sync")
            listed = mm(approver, "proposals", "--json")
            for p in json.loads(listed.stdout or "[]"):
                done = mm(approver, "approve", p["id"], "-r", "reviewed on the approver's machine")
                if done.returncode:
                    out.errors.append(done.stderr)
                else:
                    out.approved.append(p["id"])
            mm(approver, "sync")
            if finished and not json.loads(mm(approver, "proposals", "--json").stdout or "[]"):
                return
            time.sleep(0.2)

    start = time.monotonic()
    workers = [threading.Thread(target=agent, args=(n, c)) for n, c in enumerate(agent_clones)]
    approver_thread = threading.Thread(target=person)
    for t in [*workers, approver_thread]:
        t.start()
    for t in workers:
        t.join()
    # Last proposals travel on a final sync of every agent clone.
    for clone in agent_clones:
        mm(clone, "sync")
    done_agents.set()
    approver_thread.join()
    for clone in agent_clones:
        mm(clone, "sync")
        watch(clone)
    out.seconds = time.monotonic() - start
    return out


def check(out: Outcome) -> list[str]:
    """Every proposal arrived and was approved, verify passes everywhere, nothing lost or duplicated."""
    problems = list(out.errors)
    for clone in out.clones:
        names = [Path(n).stem for n in git(clone, "ls-tree", "-r", "--name-only", "main", "memory/notes").split()]
        notes = [n for n in names if n.startswith("N-")]
        if sorted(notes) != sorted(set(notes)) or set(notes) != set(out.proposed):
            problems.append(f"{clone.name}: {len(notes)} notes on main, {len(out.proposed)} proposed")
        verified = mm(clone, "verify")
        if verified.returncode:
            problems.append(f"{clone.name}: verify failed: {verified.stdout}{verified.stderr}")
    return problems


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "server").mkdir()
        (work / "keys").mkdir()
        key = work / "keys" / "alice"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
        with git_daemon(work / "server") as url:
            out = run(work, url, agents=args.agents, rounds=args.rounds, signing_key=key)
        latency = [out.visible[b] - out.proposed[b] for b in out.visible]
        print(
            f"agents {args.agents}  rounds {args.rounds}  proposals {len(out.proposed)}  approved {len(out.approved)}"
        )
        print(f"proposals per minute   {len(out.proposed) / out.seconds * 60:.1f}  ({out.seconds:.1f} s in all)")
        print(
            f"propose -> approved on the approver's clone and visible on an agent's: p50 {pct(latency, 0.5):.2f} s  "
            f"p95 {pct(latency, 0.95):.2f} s  mean {statistics.fmean(latency) if latency else float('nan'):.2f} s"
        )
        problems = check(out)
        print(
            "checks: "
            + (
                "every proposal arrived, every clone verifies, nothing lost or duplicated"
                if not problems
                else "; ".join(problems)
            )
        )


if __name__ == "__main__":
    main()
