"""`mm verify`: is every memory change on the governed branch an approval or rollback that its rules allowed?

The rules come from history, not from the config being checked: governance starts at the
genesis (the oldest first-parent commit that adds `.mindmem/config.toml`), and each later
commit is judged by the settings and approvers committed just before it. So a commit that
loosens the mode, moves `governed_since`, switches the governed branch or drops the config
is itself judged by the rules it tries to change. Deleting and re-adding the config never
restarts governance. The last verified tip is remembered in the git dir, so a governed
branch that moved backwards or sideways is reported; `expect` does the same for CI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mindmem.errors import BlockError, ConfigError
from mindmem.governance.audit import GOVERNED_DECISIONS, Judge
from mindmem.governance.trailers import parse_message
from mindmem.jsonable import Jsonable
from mindmem.store import config as cfg
from mindmem.store import gitdir
from mindmem.store.files import atomic_write
from mindmem.store.git.values import CommitInfo
from mindmem.store.memory import Memory

if TYPE_CHECKING:
    from mindmem.store.repo import GitRepo


@dataclass(frozen=True)
class Offender(Jsonable):
    sha: str
    title: str
    reason: str


@dataclass(frozen=True)
class VerifyReport(Jsonable):
    branch: str
    since: str | None
    genesis: str | None
    tip: str | None
    checked: int
    offenders: tuple[Offender, ...]
    warnings: tuple[Offender, ...]
    notes: tuple[str, ...]

    json_extra = ("ok",)

    @property
    def ok(self) -> bool:
        return not self.offenders


def verify(memory: Memory, *, since: str | None = None, expect: str | None = None) -> VerifyReport:
    """Check the governed branch (and the branch the work tree pointed at, when another) from its genesis."""
    git = memory.git
    branch = memory.settings.governed_branch
    tip = git.branch_tip(branch)
    stop = git.resolve(since) if since else None
    offenders: list[Offender] = []
    warnings: list[Offender] = []
    notes = [f"environment override in force: {o}" for o in memory.overrides]
    if since:
        notes.append(f"checked only after {since} (--since): earlier commits were not judged")
    if memory.settings.governed_since:
        notes.append("governed_since in the config is not read: governance starts at the genesis (use --since)")
    chain = _Chain(memory)
    genesis, checked = chain.judge(tip, stop) if tip else (None, 0)
    offenders += chain.offenders
    warnings += chain.warnings
    notes += chain.notes
    # A branch the work tree or HEAD named that hands governance elsewhere is judged too: the
    # hand-over itself must have been approved there.
    for other in memory.config_branches:
        other_tip = git.branch_tip(other)
        if other == branch or other_tip is None:
            continue
        side = _Chain(memory)
        side.judge(other_tip, stop)
        offenders += [Offender(o.sha, o.title, f"on {other}: {o.reason}") for o in side.offenders]
        notes.append(f"{other} was judged too: the work tree or HEAD names it, and its config names {branch}")
    if tip is not None:
        try:
            memory.snapshot(tip)
        except BlockError as exc:
            offenders.append(Offender(tip, "head of the governed branch", f"a block does not parse: {exc}"))
    offenders += _moved(memory, branch, genesis, tip, expect)
    report = VerifyReport(branch, since, genesis, tip, checked, tuple(offenders), tuple(warnings), tuple(notes))
    if report.ok and tip is not None and not since:
        _remember(git, {"branch": branch, "genesis": genesis, "tip": tip})
    return report


class _Chain:
    """Walks one branch's first-parent history oldest first, judging each commit by the rules before it."""

    def __init__(self, memory: Memory) -> None:
        self.git = memory.git
        self.judge_signature = Judge(memory)
        self.offenders: list[Offender] = []
        self.warnings: list[Offender] = []
        self.notes: list[str] = []
        self._configs: dict[str, cfg.Settings | None] = {}

    def judge(self, tip: str, stop: str | None) -> tuple[str | None, int]:
        history = list(self.git.walk(tip, first_parent=True))[::-1]
        genesis = next((n for n, c in enumerate(history) if self._adds_config(c)), None)
        if genesis is None:
            return None, 0
        rules = self._settings(history[genesis].sha) or cfg.Settings()
        started = stop is None
        checked = 0
        for info in history[genesis + 1 :]:
            parent = info.parents[0]
            rules = self._settings(parent) or rules  # a deleted config leaves the last rules in force
            if started and self._judge(info, rules):
                checked += 1
            started = started or info.sha == stop
        return history[genesis].sha, checked

    def _judge(self, info: CommitInfo, rules: cfg.Settings) -> bool:
        """Record what is wrong with one commit; False when it does not change memory."""
        parent = info.parents[0]
        inside = (rules.root + "/", cfg.CONFIG_DIR + "/")
        paths = self.git.changed_names(parent, info.sha)
        memory_paths = [p for p in paths if p.startswith(inside)]
        if not memory_paths:
            return False
        governance = any(p.startswith(cfg.CONFIG_DIR + "/") for p in memory_paths)
        lax = rules.mode == "detect_only"
        msg = parse_message(info.message)
        decision = msg.get("Mm-Decision")

        def offence(reason: str, *, soft: bool = False) -> None:
            (self.warnings if lax or soft else self.offenders).append(Offender(info.sha, msg.title, reason))

        what = "changes governance (.mindmem/)" if governance else "changes memory"
        if decision not in GOVERNED_DECISIONS:
            offence(f"{what} without an approval or rollback")
            return True
        verdict = self.judge_signature(info.sha)
        if verdict.status == "bad":
            offence("bad signature (the commit does not match it)")
        elif not verdict.good:
            problem = "unsigned" if verdict.status == "unsigned" else "signed by a key that is not an approver"
            if governance and (rules.mode == "enforce" or self.judge_signature.has_approvers(parent)):
                offence(f"{problem}: a change to .mindmem/ must be signed by an approver listed before it")
            else:
                offence(f"{problem} ({rules.mode} mode)", soft=rules.mode == "propose")
        if decision == "approved":
            outside = sorted(p for p in paths if not p.startswith(inside))
            if len(info.parents) < 2:
                offence("an approval that is not a merge of a proposal")
            if outside:
                offence(f"approval changes files outside memory: {', '.join(outside[:5])}")
        via = msg.get("Mm-Approved-Via")
        if via:
            self.notes.append(f"{info.sha[:12]} was approved by {via} through an agent grant")
        return True

    def _adds_config(self, info: CommitInfo) -> bool:
        parent = info.parents[0] if info.parents else None
        return self.git.read_file(info.sha, cfg.CONFIG_FILE) is not None and (
            parent is None or self.git.read_file(parent, cfg.CONFIG_FILE) is None
        )

    def _settings(self, sha: str) -> cfg.Settings | None:
        """The config committed at `sha`, or None when it is missing or does not parse (noted)."""
        data = self.git.read_file(sha, cfg.CONFIG_FILE)
        key = self.git.blob_sha(data) if data is not None else ""
        if key not in self._configs:
            settings = None
            if data is not None:
                try:
                    settings = cfg.parse_settings(data, source=f"{cfg.CONFIG_FILE} at {sha[:12]}")
                except (ConfigError, UnicodeDecodeError) as exc:
                    self.notes.append(
                        f"{cfg.CONFIG_FILE} at {sha[:12]} does not parse; the rules before it stay: {exc}"
                    )
            self._configs[key] = settings
        return self._configs[key]


# -- rewinds --------------------------------------------------------------------------------


def _remember(git: GitRepo, state: dict[str, Any]) -> None:
    atomic_write(gitdir.verified(git), json.dumps(state).encode())


def _moved(memory: Memory, branch: str, genesis: str | None, tip: str | None, expect: str | None) -> list[Offender]:
    """The governed branch must only have moved forward since the last verify (and past `expect`)."""
    git = memory.git
    out = []
    if expect:
        wanted = git.resolve(expect)
        if tip is None or not any(c.sha == wanted for c in git.walk(tip, first_parent=True)):
            out.append(
                Offender(wanted, "--expect", f"{branch} does not contain {wanted[:12]} on its first-parent line")
            )
    try:
        with open(gitdir.verified(git), encoding="utf-8") as handle:
            last = json.load(handle)
    except (OSError, ValueError):
        return out
    if not isinstance(last, dict):
        return out
    if last.get("branch") != branch:
        out.append(
            Offender(tip or "-", "governed branch", f"was {last.get('branch')} when last verified, now {branch}")
        )
    if last.get("genesis") != genesis:
        out.append(Offender(genesis or "-", "genesis", f"governance genesis changed from {last.get('genesis')}"))
    old = last.get("tip")
    # After a rewind and a gc the old tip may be gone: that is a rewind too.
    forward = isinstance(old, str) and tip is not None and git.has_commit(old) and git.is_ancestor(old, tip)
    if isinstance(old, str) and last.get("branch") == branch and not forward:
        out.append(
            Offender(tip or "-", "governed branch", f"moved backwards or sideways from the last verified {old[:12]}")
        )
    return out
