"""Settings: the committed .mindmem/config.toml, MM_* overrides and the per-user $MM_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mindmem.errors import ConfigError
from mindmem.store import config as cfg
from mindmem.store.memory import Memory

BASE = 'schema_version = 1\nroot = "memory"\ngoverned_branch = "main"\nmode = "propose"\n'


def set_config(repo: Path, text: str) -> None:
    (repo / ".mindmem/config.toml").write_text(text)


def test_init_writes_a_config_that_reads_back(repo: Path) -> None:
    settings = Memory(repo).settings
    assert (settings.root, settings.governed_branch, settings.mode, settings.schema_version) == (
        "memory",
        "main",
        "propose",
        1,
    )
    assert settings.governed_since is None
    assert cfg.parse_settings(cfg.render_settings(settings), {}) == settings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE.replace("schema_version = 1", "schema_version = 2"), "schema_version is 2; this mm understands 1"),
        (BASE.replace("schema_version = 1\n", ""), "schema_version is None"),
        (BASE.replace("schema_version = 1", 'schema_version = "1"'), "schema_version is '1'"),
        (BASE.replace("schema_version = 1", "schema_version = true"), "schema_version is True"),
        (BASE.replace('mode = "propose"', 'mode = "yolo"'), "mode 'yolo' is not one of detect_only, propose, enforce"),
        (BASE.replace('root = "memory"', 'root = "../elsewhere"'), "root '../elsewhere' must be a plain relative"),
        (BASE.replace('root = "memory"', "root = 7"), "'root' must be a str"),
        (BASE.replace('governed_branch = "main"', 'governed_branch = ""'), "governed_branch '' is not a branch"),
        (BASE + "colour = 'blue'\n", "unknown setting 'colour'"),
        (BASE + "mode = [\n", "invalid TOML"),
    ],
)
def test_a_bad_config_is_a_clear_error_exit_2(repo: Path, mm, text: str, message: str) -> None:
    set_config(repo, text)
    result = mm("list", cwd=repo)
    assert result.code == 2
    assert result.err.startswith("mm: error: .mindmem/config.toml: ")
    assert message in result.err
    assert result.err.count("\n") == 1


def test_tables_for_later_features_are_kept(repo: Path) -> None:
    text = BASE + '\n[agents]\nallow_approve = ["ci-bot"]\nlimits = {per_day = 5, strict = true}\n'
    settings = cfg.parse_settings(text, {})
    assert settings.sections == {"agents": {"allow_approve": ["ci-bot"], "limits": {"per_day": 5, "strict": True}}}
    assert cfg.parse_settings(cfg.render_settings(settings), {}).sections == settings.sections


def test_mm_variables_override_an_uncommitted_config(tmp_path: Path, mm, monkeypatch) -> None:
    repo = tmp_path / "fresh"
    assert mm("init", str(repo)).code == 0  # nothing committed yet: nothing is governed
    (repo / "notes/decisions").mkdir(parents=True)
    monkeypatch.setenv("MM_ROOT", "notes")
    monkeypatch.setenv("MM_MODE", "enforce")
    settings = Memory(repo).settings
    assert (settings.root, settings.mode) == ("notes", "enforce")
    created = mm("new", "decision", "-t", "Lives under notes", "--json", cwd=repo)
    assert created.code == 0, created.err
    assert json.loads(created.out)["path"].startswith("notes/decisions/D-")


def test_over_a_committed_config_variables_may_only_make_governance_stricter(repo: Path, mm, monkeypatch) -> None:
    monkeypatch.setenv("MM_MODE", "enforce")
    memory = Memory(repo)
    assert memory.settings.mode == "enforce" and memory.overrides == ("MM_MODE=enforce (committed: propose)",)
    for var, value in (("MM_MODE", "detect_only"), ("MM_ROOT", "notes"), ("MM_GOVERNED_BRANCH", "trunk")):
        monkeypatch.setenv("MM_MODE", "propose")
        monkeypatch.setenv(var, value)
        result = mm("list", cwd=repo)
        assert result.code == 2 and "may only make governance stricter" in result.err, (var, result.err)
        monkeypatch.delenv(var)


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("MM_MODE", "chaos", "mode 'chaos' is not one of"),
        ("MM_ROOT", "/etc", "root '/etc' must be a plain relative folder"),
        ("MM_GOVERNED_BRANCH", "my branch", "governed_branch 'my branch' is not a branch name"),
    ],
)
def test_a_bad_override_exits_2(repo: Path, mm, monkeypatch, var: str, value: str, message: str) -> None:
    monkeypatch.setenv(var, value)
    result = mm("list", cwd=repo)
    assert result.code == 2
    assert message in result.err


def test_user_settings_live_in_mm_home(repo: Path, mm, monkeypatch, tmp_path: Path) -> None:
    home = tmp_path / "mmhome"
    home.mkdir()
    (home / "config.toml").write_text('author = "alice"\nmodel = "/models/tiny.gguf"\n')
    monkeypatch.setenv("MM_HOME", str(home))
    assert cfg.user_dir({"MM_HOME": str(home)}) == home
    assert cfg.user_config({"MM_HOME": str(home)}) == {"author": "alice", "model": "/models/tiny.gguf"}
    created = mm("new", "note", "-t", "Whose note", "--json", cwd=repo)
    assert "author: alice\n" in (repo / json.loads(created.out)["path"]).read_text()

    monkeypatch.setenv("MM_AUTHOR", "bob")
    created = mm("new", "note", "-t", "Now bob's", "--json", cwd=repo)
    assert "author: bob\n" in (repo / json.loads(created.out)["path"]).read_text()


def test_without_mm_home_the_platform_config_dir_is_used(tmp_path: Path) -> None:
    assert cfg.user_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "mindmem"
    assert cfg.user_dir({"HOME": str(tmp_path)}) == tmp_path / ".config" / "mindmem"
    # No user config at all is fine: git's user.name is the author then.
    assert cfg.user_config({"MM_HOME": str(tmp_path / "missing")}) == {}


def test_a_broken_user_config_is_a_clear_error(repo: Path, mm, monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("author = \n")
    monkeypatch.setenv("MM_HOME", str(tmp_path))
    result = mm("new", "note", "-t", "x", cwd=repo)
    assert result.code == 2
    assert "config.toml in MM_HOME: invalid TOML" in result.err
    with pytest.raises(ConfigError):
        cfg.user_config({"MM_HOME": str(tmp_path)})
