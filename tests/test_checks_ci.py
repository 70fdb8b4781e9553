"""mm init --ci github: the pull-request workflow, PR template and CODEOWNERS example."""

from __future__ import annotations

import json

import yaml
from conftest import git


def test_init_ci_github_writes_the_workflow(tmp_path, mm):
    proj = tmp_path / "proj"
    proj.mkdir()
    git(proj, "init", "-q", "-b", "trunk")
    (proj / ".github").mkdir()
    (proj / ".github/pull_request_template.md").write_text("ours\n")
    result = mm("init", "--root", "knowledge", "--ci", "github", "--json", cwd=proj)
    assert result.code == 0, result.err
    assert json.loads(result.out)["ci"] == [
        {"path": ".github/workflows/mindmem.yml", "written": True},
        {"path": ".github/pull_request_template.md", "written": False},
        {"path": ".github/CODEOWNERS.example", "written": True},
    ]
    assert (proj / ".github/pull_request_template.md").read_text() == "ours\n"
    text = (proj / ".github/workflows/mindmem.yml").read_text()
    assert "@MM_" not in text
    workflow = yaml.safe_load(text)
    assert workflow[True]["pull_request"]["paths"] == ["knowledge/**", ".mindmem/**"]  # YAML reads `on` as True
    runs = [step.get("run", "") for step in workflow["jobs"]["memory"]["steps"]]
    assert any("refs/heads/trunk:refs/heads/trunk" in r for r in runs)
    assert any(r.startswith('mm review "$RANGE" --format markdown') for r in runs)
    assert "mm verify" in runs and 'mm check "$RANGE"' in runs
    assert "/knowledge/" in (proj / ".github/CODEOWNERS.example").read_text()


def test_init_ci_unknown_host_writes_nothing(tmp_path, mm):
    proj = tmp_path / "proj"
    proj.mkdir()
    git(proj, "init", "-q")
    assert mm("init", "--ci", "jenkins", cwd=proj).code == 2
    assert not (proj / ".mindmem").exists()
