"""Many machines through a real git server: agents on four clones propose through `mm sync`, one person
approves on a fifth, and every clone ends with the same verified memory (benchmarks/team.py, small)."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ssh_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import team


def test_agents_on_four_clones_and_one_approver_lose_nothing(tmp_path: Path):
    (tmp_path / "server").mkdir()
    key = ssh_key(tmp_path / "keys", "alice")
    with team.git_daemon(tmp_path / "server") as url:
        out = team.run(tmp_path, url, agents=4, rounds=2, signing_key=key)
    assert len(out.proposed) == 8
    assert sorted(out.approved) == sorted(set(out.approved)) and len(out.approved) == 8
    assert team.check(out) == []
