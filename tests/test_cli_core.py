"""The core commands on real repositories: init, new, show, list, fmt, validate, and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import fsck, git

from mindmem import __version__

FACT = "F-20260102-00aa01"
FACT_PATH = f"memory/facts/{FACT}.md"


def block_text(block_id: str, block_type: str = "fact", title: str = "A fact", extra: str = "") -> str:
    return (
        f"---\nid: {block_id}\ntype: {block_type}\ntitle: {title}\nstatus: active\n"
        f"created: 2026-01-02T10:00:00Z\n{extra}---\nBody.\n"
    )


def write(repo: Path, rel: str, data: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def state(repo: Path) -> tuple:
    """Everything a command must leave alone on bad input: files, index, refs and what git status says."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            full = Path(dirpath, name)
            files[full.relative_to(repo).as_posix()] = full.read_bytes()
    return (
        files,
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "ls-files", "--stage"),
        git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
    )


# -- init ------------------------------------------------------------------------


def test_init_in_a_new_folder_runs_git_init(tmp_path: Path, mm) -> None:
    result = mm("init", "team-memory", "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    out = json.loads(result.out)
    target = tmp_path / "team-memory"
    assert Path(out["path"]).resolve() == target.resolve()
    assert out["git_initialized"] is True
    assert out["commit"] is None
    assert (target / ".git").is_dir()
    assert (target / ".mindmem/config.toml").read_text().startswith("# mindmem settings")
    assert sorted(p.name for p in (target / "memory").iterdir()) == [
        "README.md",
        "decisions",
        "entities",
        "facts",
        "incidents",
        "notes",
        "tasks",
    ]
    assert (target / ".mindmem/templates/decision.md").read_text().startswith("## Context")
    assert git(target, "rev-parse", "--verify", "HEAD", check=False) == ""
    fsck(target)


def test_init_on_a_file_is_refused(tmp_path: Path, mm) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    result = mm("init", "notes.txt", cwd=tmp_path)
    assert result.code == 2
    assert "notes.txt is a file, not a folder" in result.err
    assert not (tmp_path / ".git").exists()


def test_init_in_an_existing_folder_that_is_not_a_repo(tmp_path: Path, mm) -> None:
    (tmp_path / "notes").mkdir()
    result = mm("init", cwd=tmp_path / "notes")
    assert result.code == 0, result.err
    assert "Initialized an empty git repository" in result.out
    assert "Nothing committed" in result.out
    assert (tmp_path / "notes/.git").is_dir()


def make_project(path: Path) -> str:
    path.mkdir()
    git(path, "init", "-q", "-b", "trunk")
    write(path, "src/app.py", "print('hi')\n")
    git(path, "add", "src/app.py")
    git(path, "commit", "-q", "-m", "app")
    write(path, "README.md", "# app\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "readme")
    return git(path, "log", "--format=%H %s")


def test_init_in_an_existing_repo_leaves_history_alone(tmp_path: Path, mm) -> None:
    proj = tmp_path / "proj"
    history = make_project(proj)
    result = mm("init", "--mode", "enforce", cwd=proj)
    assert result.code == 0, result.err
    assert "Initialized an empty git repository" not in result.out
    assert git(proj, "log", "--format=%H %s") == history
    assert git(proj, "status", "--porcelain") == "?? .mindmem/\n?? memory/\n"
    config = (proj / ".mindmem/config.toml").read_text()
    assert 'mode = "enforce"' in config
    assert 'governed_branch = "trunk"' in config
    # Governance starts at the commit that adds this config (the genesis), so nothing marks where.
    assert "governed_since" not in config


def test_init_commit_makes_exactly_one_commit_and_keeps_the_users_staged_work(tmp_path: Path, mm) -> None:
    proj = tmp_path / "proj"
    history = make_project(proj)
    write(proj, "README.md", "# app\nwork in progress\n")
    git(proj, "add", "README.md")
    write(proj, "memory/README.md", "# Our own words about memory\n")

    result = mm("init", "--commit", cwd=proj)
    assert result.code == 0, result.err
    log = git(proj, "log", "--format=%H %s")
    assert log.endswith(history)
    new = log.removesuffix(history).splitlines()
    assert len(new) == 1 and new[0].endswith(" Initialize mindmem memory")
    assert f"Committed {new[0][:12]} Initialize mindmem memory" in result.out
    assert git(proj, "status", "--porcelain", "--untracked-files=all") == "M  README.md\n?? memory/README.md\n"
    committed = git(proj, "show", "--name-only", "--format=", "HEAD").split()
    assert ".mindmem/config.toml" in committed and "memory/facts/.gitkeep" in committed
    assert "README.md" not in committed and "memory/README.md" not in committed
    assert (proj / "memory/README.md").read_text() == "# Our own words about memory\n"
    fsck(proj)


def test_init_commit_in_an_empty_repo_makes_the_root_commit(tmp_path: Path, mm) -> None:
    result = mm("init", "fresh", "--commit", cwd=tmp_path)
    assert result.code == 0, result.err
    fresh = tmp_path / "fresh"
    assert git(fresh, "log", "--format=%s") == "Initialize mindmem memory\n"
    assert git(fresh, "status", "--porcelain") == ""
    fsck(fresh)


def test_a_second_init_is_refused_and_changes_nothing(repo: Path, mm) -> None:
    before = state(repo)
    result = mm("init", "--commit", cwd=repo)
    assert result.code == 3
    assert "already a mindmem repo" in result.err
    assert state(repo) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--root", "../outside"], "must be a plain relative folder"),
        (["--root", "/abs"], "must be a plain relative folder"),
        (["--root", ".git/memory"], "must be a plain relative folder"),
        (["--root", ".mindmem"], "must be a plain relative folder"),
        (["--root", ""], "must be a plain relative folder"),
        (["--mode", "anarchy"], "--mode 'anarchy' is not one of detect_only, propose, enforce"),
    ],
)
def test_init_with_a_bad_root_or_mode_exits_2_and_writes_nothing(tmp_path: Path, mm, args, message) -> None:
    result = mm("init", "new", *args, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "new").exists()


def test_init_from_a_subfolder_sets_up_the_repo_root(tmp_path: Path, mm, monkeypatch) -> None:
    proj = tmp_path / "proj"
    make_project(proj)
    monkeypatch.chdir(proj / "src")
    result = mm("init", "--root", "docs/memory")
    assert result.code == 0, result.err
    assert (proj / ".mindmem/config.toml").is_file()
    assert (proj / "docs/memory/decisions/.gitkeep").is_file()
    assert not (proj / "src/.mindmem").exists()
    assert git(proj, "status", "--porcelain") == "?? .mindmem/\n?? docs/\n"


def test_init_and_other_commands_follow_mm_repo(tmp_path: Path, mm, monkeypatch) -> None:
    proj = tmp_path / "proj"
    make_project(proj)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MM_REPO", str(proj))
    assert mm("init").code == 0
    assert (proj / ".mindmem/config.toml").is_file()
    created = mm("new", "fact", "-t", "Found via MM_REPO")
    assert created.code == 0, created.err
    assert mm("show", created.out.strip()).code == 0
    assert not (elsewhere / ".mindmem").exists()


def test_commands_work_from_a_subfolder(repo: Path, mm, monkeypatch) -> None:
    write(repo, FACT_PATH, block_text(FACT))
    monkeypatch.chdir(repo / "memory" / "facts")
    assert FACT in mm("list").out


def test_commands_outside_a_memory_repo_say_how_to_start(tmp_path: Path, mm) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "-q")
    result = mm("list", cwd=plain)
    assert result.code == 3
    assert "is not a mindmem repo" in result.err and "mm init" in result.err


# -- new -------------------------------------------------------------------------


def test_new_writes_a_canonical_file_and_prints_the_id(repo: Path, mm) -> None:
    result = mm(
        "new",
        "decision",
        "--title",
        "Store billing events in PostgreSQL",
        "--set",
        "subject=PRJ-billing",
        "--set",
        "tags=[storage, billing]",
        "--set",
        "constraint={axis: storage.engine, scope: PRJ-billing, modality: must, object: postgresql}",
        "--set",
        "expires=2027-05-25",
        "--set",
        "review={board: arch, votes: [1, 2]}",
        "--edge",
        "cites:F-20261120-aa10f3",
        "--edge",
        "supersedes:D-20260301-01bc22",
        cwd=repo,
    )
    assert result.code == 0, result.err
    block_id = result.out.strip()
    assert block_id.startswith("D-") and len(block_id) == len("D-20261125-7f3a9c")
    path = repo / f"memory/decisions/{block_id}.md"
    text = path.read_text()
    assert "constraint: {axis: storage.engine, scope: PRJ-billing, modality: must, object: postgresql}\n" in text
    assert "edges:\n  cites: [F-20261120-aa10f3]\n  supersedes: [D-20260301-01bc22]\n" in text
    assert text.endswith(
        "review:\n  board: arch\n  votes: [1, 2]\n---\n## Context\n\nWhat forced a choice.\n"
        "\n## Decision\n\nWhat we chose.\n\n## Consequences\n\nWhat changes because of it.\n"
    )
    assert "author: Test User\n" in text
    assert mm("fmt", "--check", cwd=repo).code == 0
    # Nothing is committed by `mm new`.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == f"?? memory/decisions/{block_id}.md\n"


def test_new_reads_the_body_from_stdin(repo: Path, mm) -> None:
    result = mm(
        "new", "fact", "-t", "Deploy path", "-b", "-", "--json", cwd=repo, stdin="\nDeploys go via staging.\n\n"
    )
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert (repo / out["path"]).read_text().endswith("---\nDeploys go via staging.\n")
    shown = json.loads(mm("show", out["id"], "--json", cwd=repo).out)
    assert shown["body"] == "Deploys go via staging."


@pytest.mark.parametrize(
    ("kind", "title", "expected"),
    [
        ("person", "Alice Example", "PER-alice-example"),
        ("project", "Billing", "PRJ-billing"),
        ("tool", "PostgreSQL 16", "TOOL-postgresql-16"),
        ("org", "ACME, Inc.", "ORG-acme-inc"),
    ],
)
def test_new_entity_kinds_get_slug_ids(repo: Path, mm, kind: str, title: str, expected: str) -> None:
    result = mm("new", kind, "-t", title, cwd=repo)
    assert result.code == 0, result.err
    assert result.out.strip() == expected
    assert f"type: entity\ntitle: {title}\n" in (repo / f"memory/entities/{expected}.md").read_text()


def test_a_duplicate_entity_is_refused(repo: Path, mm) -> None:
    assert mm("new", "person", "-t", "Alice", cwd=repo).code == 0
    before = state(repo)
    again = mm("new", "person", "-t", "alice", cwd=repo)
    assert again.code == 2
    assert again.err.strip() == "mm: error: entity PER-alice already exists"
    by_id = mm("new", "entity", "-t", "Someone", "--id", "PER-alice", cwd=repo)
    assert by_id.code == 2
    assert "block PER-alice already exists at memory/entities/PER-alice.md" in by_id.err
    assert state(repo) == before


def test_new_with_an_unknown_type_exits_2(repo: Path, mm) -> None:
    result = mm("new", "essay", "-t", "x", cwd=repo)
    assert result.code == 2
    assert "unknown block type 'essay'" in result.err


def test_a_plain_entity_needs_its_kind_or_an_id(repo: Path, mm) -> None:
    result = mm("new", "entity", "-t", "Billing", cwd=repo)
    assert result.code == 2
    assert "an entity needs its kind: use `mm new person|project|tool|org`" in result.err
    assert mm("new", "entity", "-t", "Billing", "--id", "PRJ-billing", cwd=repo).out == "PRJ-billing\n"
    wrong = mm("new", "entity", "-t", "Billing", "--id", "F-20260101-000000", cwd=repo)
    assert wrong.code == 2
    assert "has prefix F but type is entity" in wrong.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "tags=billing"], "memory/tasks/T-"),
        (["--set", "tags=billing"], "field 'tags' must be a list of strings"),
        (["--set", "due=tomorrow"], "field 'due' must be a date YYYY-MM-DD"),
        (["--set", "status=active"], "status 'active' is not valid for a task"),
        (["--set", "title=[a, b]"], "field 'title' must be a string, not a list"),
        (["--set", "title=[unclosed"], "cannot read value '[unclosed'"),
        (["--set", "noequals"], "--set expects key=value"),
        (["--set", "id=T-20260101-000000"], "id is not a field to set; give it as --id"),
        (["--set", "body=x"], "key 'body' is reserved"),
        (["--set", "edges=[x]"], "field 'edges' must be a mapping"),
        (["--set", "edges=[x]", "--edge", "cites:PER-bob"], "--set edges=… must be a mapping"),
        (["--edge", "cites:not-an-id"], "edges.cites points at 'not-an-id', which is not a block ID"),
        (["--edge", "cites:../../etc/passwd"], "which is not a block ID"),
        (["--edge", "causes:F-20261120-aa10f3"], "unknown edge type 'causes'"),
        (["--edge", "F-20261120-aa10f3"], "--edge expects EDGE_TYPE:ID"),
        (["--id", "D-20260101-000000"], "has prefix D but type is task"),
        (["--id", "T-20260101-000000/x"], "must not contain a path separator"),
        (["--id", "../T-20260101-000000"], "must not contain a path separator or '..'"),
    ],
)
def test_new_with_bad_fields_exits_2_and_writes_nothing(repo: Path, mm, args: list[str], message: str) -> None:
    before = state(repo)
    result = mm("new", "task", "-t", "Ship it", *args, cwd=repo)
    assert result.code == 2, result.out
    assert message in result.err
    assert result.err.startswith("mm: error: ") and result.err.count("\n") == 1
    assert state(repo) == before


def test_set_edges_and_edge_options_add_up(repo: Path, mm) -> None:
    result = mm(
        "new", "task", "-t", "t", "--set", "edges={cites: F-20261120-aa10f3}", "--edge", "cites:PER-bob", cwd=repo
    )
    assert result.code == 0, result.err
    shown = json.loads(mm("show", result.out.strip(), "--json", cwd=repo).out)
    assert shown["edges"] == {"cites": ["F-20261120-aa10f3", "PER-bob"]}


# -- show and list ---------------------------------------------------------------


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "memory")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def populated(repo: Path, mm) -> dict[str, str]:
    ids = {}
    ids["alice"] = mm("new", "person", "-t", "Alice", cwd=repo).out.strip()
    ids["fact"] = mm("new", "fact", "-t", "Billing runs on PG", "--set", "tags=[billing, db]", cwd=repo).out.strip()
    ids["decision"] = mm(
        "new", "decision", "-t", "Keep PG", "--set", "tags=[billing]", "--edge", f"cites:{ids['fact']}", cwd=repo
    ).out.strip()
    ids["task"] = mm(
        "new", "task", "-t", "Migrate", "--edge", f"depends_on:{ids['decision']}", "--set", "status=doing", cwd=repo
    ).out.strip()
    ids["first_commit"] = commit_all(repo, "memory, first")
    text = (repo / f"memory/facts/{ids['fact']}.md").read_text()
    (repo / f"memory/facts/{ids['fact']}.md").write_text(text.replace("status: active", "status: superseded"))
    ids["note"] = mm("new", "note", "-t", "Unrelated", cwd=repo).out.strip()
    return ids


def listed(repo: Path, mm, *args: str) -> list[str]:
    result = mm("list", "--json", *args, cwd=repo)
    assert result.code == 0, result.err
    return [item["id"] for item in json.loads(result.out)]


def test_list_filters_by_type_status_tag_and_revision(repo: Path, mm, populated: dict[str, str]) -> None:
    ids = populated
    everything = listed(repo, mm)
    assert set(everything) == {ids["alice"], ids["fact"], ids["decision"], ids["task"], ids["note"]}
    assert listed(repo, mm, "--type", "decision") == [ids["decision"]]
    assert listed(repo, mm, "--type", "entity") == [ids["alice"]]
    assert listed(repo, mm, "--status", "doing") == [ids["task"]]
    assert listed(repo, mm, "--status", "superseded") == [ids["fact"]]
    assert set(listed(repo, mm, "--tag", "billing")) == {ids["fact"], ids["decision"]}
    assert listed(repo, mm, "--tag", "billing", "--status", "active") == [ids["decision"]]
    assert set(listed(repo, mm, "--at", ids["first_commit"])) == everything_but(everything, ids["note"])
    assert listed(repo, mm, "--at", "HEAD", "--status", "superseded") == []
    assert listed(repo, mm, "--at", "HEAD~1") == []
    text = mm("list", "--type", "task", cwd=repo).out
    assert text.split() == [ids["task"], "task", "doing", "Migrate"]


def everything_but(ids: list[str], left_out: str) -> set[str]:
    return set(ids) - {left_out}


def test_list_json_has_fields_but_no_body(repo: Path, mm, populated: dict[str, str]) -> None:
    items = json.loads(mm("list", "--json", "--type", "decision", cwd=repo).out)
    assert items == [
        {
            "id": populated["decision"],
            "type": "decision",
            "title": "Keep PG",
            "status": "active",
            "created": items[0]["created"],
            "author": "Test User",
            "tags": ["billing"],
            "aliases": ["Keep PG"],  # the title, so Obsidian shows it (docs/obsidian.md)
            "edges": {"cites": [populated["fact"]]},
        }
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "essay"], "unknown type 'essay'"),
        (["--status", "finished"], "unknown status 'finished'"),
        (["--at", "no-such-branch"], "unknown revision 'no-such-branch'"),
    ],
)
def test_list_with_bad_filters_exits_2(repo: Path, mm, args: list[str], message: str) -> None:
    result = mm("list", *args, cwd=repo)
    assert result.code == 2
    assert message in result.err


def test_show_prints_the_canonical_text_now_and_at_a_revision(repo: Path, mm, populated: dict[str, str]) -> None:
    fact = populated["fact"]
    now = mm("show", fact, cwd=repo)
    assert now.code == 0
    assert now.out == (repo / f"memory/facts/{fact}.md").read_text()
    assert "status: superseded" in now.out
    then = mm("show", fact, "--at", populated["first_commit"], cwd=repo)
    assert "status: active" in then.out
    data = json.loads(mm("show", fact, "--at", "HEAD", "--json", cwd=repo).out)
    assert data["commit"] == populated["first_commit"]
    assert data["path"] == f"memory/facts/{fact}.md"
    assert data["status"] == "active" and data["tags"] == ["billing", "db"]
    assert json.loads(mm("show", fact, "--json", cwd=repo).out)["commit"] is None


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["PER-nobody"], 2, "no block PER-nobody in the work tree"),
        (["PER-alice", "--at", "HEAD~1"], 2, "no block PER-alice at HEAD~1"),
        (["../etc/passwd"], 2, "must not contain a path separator"),
        (["hello"], 2, "'hello' is not a block ID"),
    ],
)
def test_show_of_a_missing_or_bad_id(repo: Path, mm, populated, args: list[str], code: int, message: str) -> None:
    result = mm("show", *args, cwd=repo)
    assert result.code == code
    assert message in result.err


# -- fmt and validate ------------------------------------------------------------


def test_fmt_rewrites_in_place_and_keeps_unknown_keys(repo: Path, mm) -> None:
    messy = (
        "---\nreviewers: [bob]\ntitle:   A fact\nid: F-20260102-00aa01\nstatus: active\ntype: fact\n"
        "created: 2026-01-02T10:00:00Z\nx-origin: {tool: notes, depth: {level: 2, keep: [a, b]}}\n---\n\nBody.\n\n\n"
    )
    write(repo, FACT_PATH, messy)
    check = mm("fmt", "--check", cwd=repo)
    assert check.code == 1
    assert f"would reformat {FACT_PATH}" in check.out
    assert (repo / FACT_PATH).read_text() == messy
    result = mm("fmt", cwd=repo)
    assert result.code == 0
    assert result.out == f"reformatted {FACT_PATH}\n"
    assert (repo / FACT_PATH).read_text() == (
        "---\nid: F-20260102-00aa01\ntype: fact\ntitle: A fact\nstatus: active\ncreated: 2026-01-02T10:00:00Z\n"
        "reviewers: [bob]\nx-origin:\n  tool: notes\n  depth:\n    level: 2\n    keep: [a, b]\n---\nBody.\n"
    )
    again = mm("fmt", "--check", cwd=repo)
    assert again.code == 0
    assert again.out == "all block files are canonical\n"
    # A person can keep editing: the key they added comes back after the next rewrite, same place.
    shown = json.loads(mm("show", FACT, "--json", cwd=repo).out)
    assert shown["x-origin"]["depth"] == {"level": 2, "keep": ["a", "b"]}
    assert shown["reviewers"] == ["bob"]


# The bad-input matrix: each file, planted in a memory repo, makes reading commands exit 2
# with one line naming the file (and the line, for YAML), and nothing is written.
BAD_FILES = {
    "malformed YAML": (FACT_PATH, block_text(FACT, title="[unclosed"), f"{FACT_PATH}:5: invalid YAML"),
    "missing field": (FACT_PATH, block_text(FACT).replace("title: A fact\n", ""), f"{FACT_PATH}: missing required"),
    "wrong-typed field": (FACT_PATH, block_text(FACT, extra="tags: billing\n"), f"{FACT_PATH}:7: field 'tags'"),
    "ID prefix not matching its type": (
        FACT_PATH,
        block_text("D-20260102-00aa01"),
        f"{FACT_PATH}:2: id 'D-20260102-00aa01' has prefix D but type is fact",
    ),
    "ID with a path separator": (
        FACT_PATH,
        block_text("F-20260102-00aa01/x"),
        f"{FACT_PATH}:2: id 'F-20260102-00aa01/x' must not contain a path separator",
    ),
    "ID with ..": (FACT_PATH, block_text("../F-20260102-00aa01"), f"{FACT_PATH}:2: id '../F-20260102-00aa01' must not"),
    "invalid UTF-8": (FACT_PATH, block_text(FACT).encode().replace(b"Body", b"B\xffdy"), f"{FACT_PATH}: invalid UTF-8"),
    "binary file": (FACT_PATH, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", f"{FACT_PATH}: binary file"),
    "block over 1 MiB": (FACT_PATH, block_text(FACT) + "x" * 1024 * 1024, f"{FACT_PATH}: block is 1048"),
    "edge to a non-ID": (
        FACT_PATH,
        block_text(FACT, extra="edges:\n  cites: [see-above]\n"),
        f"{FACT_PATH}:7: edges.cites points at 'see-above', which is not a block ID",
    ),
    "duplicate ID": (
        "memory/facts/F-20260102-00aa02.md",
        block_text(FACT),
        f"memory/facts/F-20260102-00aa02.md: duplicate id {FACT} (also in {FACT_PATH})",
    ),
}
GOOD_NEIGHBOUR = ("memory/notes/N-20260101-abcdef.md", block_text("N-20260101-abcdef", "note", "  Not canonical"))


READERS_AND_WRITERS = (["list"], ["list", "--json"], ["show", "N-20260101-abcdef"], ["fmt"], ["new", "note", "-t", "x"])


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_block_files_exit_2_name_the_file_and_write_nothing(repo: Path, mm, case: str) -> None:
    path, data, message = BAD_FILES[case]
    write(repo, *GOOD_NEIGHBOUR)
    if case == "duplicate ID":
        write(repo, FACT_PATH, block_text(FACT))
    write(repo, path, data)
    before = state(repo)
    for command in READERS_AND_WRITERS:
        result = mm(*command, cwd=repo)
        assert result.code == 2, (command, result.out, result.err)
        assert result.out == ""
        assert result.err.startswith(f"mm: error: {message}"), (command, result.err)
        assert result.err.count("\n") == 1
        assert state(repo) == before


def test_bad_files_committed_to_history_fail_reads_at_that_revision(repo: Path, mm) -> None:
    write(repo, FACT_PATH, block_text(FACT, extra="tags: billing\n"))
    sha = commit_all(repo, "a bad block")
    (repo / FACT_PATH).unlink()
    assert mm("list", cwd=repo).code == 0
    result = mm("list", "--at", sha, cwd=repo)
    assert result.code == 2
    assert result.err.startswith(f"mm: error: {FACT_PATH}:7: field 'tags'")


def test_validate_reports_every_problem_and_exits_1(repo: Path, mm) -> None:
    planted = {}
    for n, (case, (_, data, _message)) in enumerate(sorted(BAD_FILES.items())):
        if case == "duplicate ID":
            continue
        planted[f"memory/facts/F-20260102-{n:06x}.md"] = data
    planted["memory/facts/F-20260102-aaaaaa.md"] = block_text("F-20260102-aaaaaa")
    planted["memory/facts/F-20260102-bbbbbb.md"] = block_text("F-20260102-aaaaaa")
    planted["memory/notes/F-20260102-cccccc.md"] = block_text("F-20260102-cccccc")
    for rel, data in planted.items():
        write(repo, rel, data)
    before = state(repo)

    result = mm("validate", cwd=repo)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[-1] == f"{len(planted)} block file(s), {len(planted) - 1} problem(s)"
    named = {line.split(":")[0] for line in lines[:-1]}
    assert named == set(planted) - {"memory/facts/F-20260102-aaaaaa.md"}
    assert "memory/notes/F-20260102-cccccc.md: block F-20260102-cccccc should live at " in result.out

    data = json.loads(mm("validate", "--json", cwd=repo).out)
    assert data["blocks"] == len(planted)
    assert len(data["problems"]) == len(planted) - 1
    assert {"path", "line", "message"} == set(data["problems"][0])
    assert state(repo) == before


def test_validate_on_a_clean_repo(repo: Path, mm) -> None:
    mm("new", "note", "-t", "fine", cwd=repo)
    result = mm("validate", cwd=repo)
    assert result.code == 0
    assert result.out == "1 block file(s), 0 problem(s)\n"


def test_version(mm) -> None:
    result = mm("--version")
    assert result.code == 0
    assert result.out == f"mm {__version__}\n"
