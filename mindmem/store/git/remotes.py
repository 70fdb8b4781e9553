"""Remotes, through the real git binary, so transports, credentials and hooks are git's own."""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from mindmem.errors import RefConflict, StateError
from mindmem.store.git.base import GitBase


class Remotes(GitBase):
    def remote_url(self, remote: str) -> str | None:
        """The URL a remote is configured with, or None when there is no such remote."""
        try:
            return self._raw.remotes[remote].url
        except (KeyError, ValueError):
            return None

    def remote_tips(self, remote: str, prefix: str) -> dict[str, str]:
        """Remote-tracking branches refs/remotes/REMOTE/<prefix>… -> tip sha, keyed by the branch name."""
        base = f"refs/remotes/{remote}/"
        return {
            name.removeprefix(base): str(self._raw.references[name].peel(pygit2.Commit).id)
            for name in self._raw.references
            if name.startswith(base + prefix)
        }

    def ls_remote(self, remote: str, refs: list[str]) -> dict[str, str]:
        """Which of these full ref names the remote has -> sha (one `git ls-remote`)."""
        out = self._git("ls-remote", "--refs", remote, *refs, what=f"list the refs of {remote}")
        found = {ref: sha for sha, ref in (line.split("\t", 1) for line in out.splitlines() if "\t" in line)}
        return {ref: found[ref] for ref in refs if ref in found}

    def fetch(self, remote: str, refspecs: list[str]) -> None:
        """`git fetch --prune` of exactly these refspecs (into remote-tracking refs); no tags."""
        self._git("fetch", "--quiet", "--no-tags", "--prune", remote, *refspecs, what=f"fetch from {remote}")

    def push(self, remote: str, refspecs: list[str], leases: Mapping[str, str]) -> None:
        """One atomic, never forced `git push`: every ref moves or none does.

        The remote refuses anything that is not a fast-forward. `leases` (full ref -> expected sha) guard
        deletions: a ref is only deleted if the remote still has the value it was seen with.
        """
        lease_args = [f"--force-with-lease={ref}:{sha}" for ref, sha in leases.items()]
        done = self._run("push", "--atomic", "--porcelain", *lease_args, remote, *refspecs)
        if done.returncode != 0:
            refused = [line.split("\t")[1:] for line in done.stdout.splitlines() if line.startswith("!")]
            reasons = "; ".join(" ".join(parts) for parts in refused) or _git_reason(done.stderr)
            raise RefConflict(f"{remote} refused the push ({reasons}); nothing was pushed")

    def _git(self, *args: str, what: str) -> str:
        done = self._run(*args)
        if done.returncode != 0:
            raise StateError(f"could not {what}: {_git_reason(done.stderr)}")
        return done.stdout


def _git_reason(err: str) -> str:
    """The line of git's stderr that says what went wrong: its first fatal/error line, else its last line."""
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    reasons = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (reasons or lines or ["no error message"])[0 if reasons else -1]
