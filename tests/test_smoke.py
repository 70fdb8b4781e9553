from conftest import fsck, git


def test_new_list_show_roundtrip(repo, mm):
    created = mm("new", "decision", "-t", "Use PostgreSQL", "--set", "tags=[db]", cwd=repo)
    assert created.code == 0, created.err
    block_id = created.out.strip()
    listed = mm("list", "--tag", "db", cwd=repo)
    assert block_id in listed.out
    shown = mm("show", block_id, cwd=repo)
    assert "title: Use PostgreSQL" in shown.out
    assert git(repo, "log", "--format=%s").splitlines()[0] == "Initialize mindmem memory"
    fsck(repo)
