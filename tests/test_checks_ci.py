"""`mm ci github` and `mm init --ci github`: the pull-request workflow, PR template and CODEOWNERS example.

actionlint cannot be installed offline here (its pip wrapper downloads the binary while building),
so the workflow is validated by structure: the keys GitHub requires, step ids the conditions use,
and every `run:` script parsed by bash.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml
from conftest import git

from mindmem.governance.ci import spec_from_install

PINNED = "git+https://git.example.com/tools/mindmem@v0.1.0"


def load_workflow(text: str) -> dict:
    workflow = yaml.safe_load(text)
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    return workflow


def assert_valid_workflow(workflow: dict) -> None:
    """What GitHub needs of a workflow, and what would silently break this one."""
    assert set(workflow) >= {"name", "on", "jobs"}
    for job in workflow["jobs"].values():
        assert job["runs-on"] and job["steps"]
        ids = {step["id"] for step in job["steps"] if "id" in step}
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            assert "continue-on-error" not in step  # a failed post fails the job
            for used in re.findall(r"steps\.([\w-]+)\.outputs", str(step.get("if", ""))):
                assert used in ids
            if "run" in step:
                # `${{ … }}` is replaced by GitHub before bash sees the script.
                script = re.sub(r"\$\{\{.*?\}\}", "x", step["run"])
                done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
                assert done.returncode == 0, (step["run"], done.stderr)


def test_init_ci_github_writes_the_workflow(tmp_path, mm):
    proj = tmp_path / "proj"
    proj.mkdir()
    git(proj, "init", "-q", "-b", "trunk")
    (proj / ".github").mkdir()
    (proj / ".github/pull_request_template.md").write_text("ours\n")
    result = mm("init", "--root", "knowledge", "--ci", "github", "--install", PINNED, "--json", cwd=proj)
    assert result.code == 0, result.err
    assert [(f["path"], f["state"]) for f in json.loads(result.out)["ci"]] == [
        (".github/workflows/mindmem.yml", "written"),
        (".github/pull_request_template.md", "kept"),
        (".github/CODEOWNERS.example", "written"),
    ]
    assert (proj / ".github/pull_request_template.md").read_text() == "ours\n"
    text = (proj / ".github/workflows/mindmem.yml").read_text()
    assert "@MM_" not in text
    workflow = load_workflow(text)
    assert_valid_workflow(workflow)
    assert workflow["on"] == {"pull_request": None}  # no paths filter: code-only pull requests are checked too
    steps = workflow["jobs"]["memory"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert f'python -m pip install "{PINNED}"' in runs
    assert any("refs/heads/trunk:refs/heads/trunk" in r for r in runs)
    assert any('-- "knowledge" .mindmem' in r for r in runs)
    review = next(r for r in runs if r.startswith("mkdir"))
    assert '--max-chars 60000 > "$RUNNER_TEMP/mindmem/comment.md"' in review
    assert '>> "$GITHUB_STEP_SUMMARY"' in review and "--json" in review
    assert any(step.get("uses", "").startswith("actions/upload-artifact@") for step in steps)
    post = next(step for step in steps if "gh pr comment" in step.get("run", ""))
    assert "comment.md" in post["run"]
    assert "mm verify" in runs and 'mm check "$RANGE" --all' in runs
    assert "/knowledge/" in (proj / ".github/CODEOWNERS.example").read_text()


def test_ci_on_an_initialised_repo_writes_and_updates_the_workflow(repo, mm):
    first = mm("init", "--ci", "github", "--install", PINNED, cwd=repo)
    assert first.code == 0, first.err
    assert "already set up" in first.out and "Wrote .github/workflows/mindmem.yml" in first.out
    workflow = repo / ".github/workflows/mindmem.yml"
    written = workflow.read_text()
    workflow.write_text(written.replace("--all", ""))  # an old or hand-edited workflow
    (repo / ".github/pull_request_template.md").write_text("ours\n")
    again = json.loads(mm("ci", "github", "--install", PINNED, "--json", cwd=repo).out)
    assert [f["state"] for f in again["files"]] == ["updated", "kept", "kept"]
    assert workflow.read_text() == written
    third = json.loads(mm("ci", "github", "--install", PINNED, "--json", cwd=repo).out)
    assert third["files"][0]["state"] == "unchanged"


def test_ci_installs_from_a_folder_in_the_repo(repo, mm):
    (repo / "tools/mindmem").mkdir(parents=True)
    assert mm("ci", "github", "--install", "tools/mindmem", cwd=repo).code == 0
    assert 'pip install "./tools/mindmem"' in (repo / ".github/workflows/mindmem.yml").read_text()
    assert mm("ci", "github", "--install", 'x"; rm -rf /', cwd=repo).code == 2


def test_ci_bad_input_writes_nothing(tmp_path, repo, mm):
    proj = tmp_path / "fresh"
    proj.mkdir()
    git(proj, "init", "-q")
    assert mm("init", "--ci", "jenkins", cwd=proj).code == 2
    assert mm("init", "--install", PINNED, cwd=proj).code == 2  # --install without --ci
    assert not (proj / ".mindmem").exists()
    assert mm("ci", "gitlab", cwd=repo).code == 2 and not (repo / ".github").exists()


@pytest.mark.parametrize(
    ("direct_url", "origin", "expected"),
    [
        (
            {"url": "https://git.example.com/tools/mindmem", "vcs_info": {"vcs": "git", "commit_id": "ab" * 20}},
            None,
            "git+https://git.example.com/tools/mindmem@" + "ab" * 20,
        ),
        ({"url": "file:///src/mindmem", "dir_info": {"editable": True}}, None, None),
        (
            {"url": "file:///src/mindmem", "dir_info": {"editable": True}},
            ("git@git.example.com:tools/mindmem.git", "cd" * 20),
            "git+ssh://git@git.example.com/tools/mindmem.git@" + "cd" * 20,
        ),
        ({"url": "file:///src/mindmem", "dir_info": {}}, ("/srv/git/mindmem.git", "cd" * 20), None),  # a local path
        ({"url": "https://files.example.com/mindmem-0.1.0.tar.gz", "archive_info": {}}, None, None),
        (None, None, None),  # installed from an index: nothing to pin
    ],
)
def test_the_default_install_source_is_pinned_or_refused(direct_url, origin, expected):
    assert spec_from_install(direct_url, lambda _folder: origin) == expected
