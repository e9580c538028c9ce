"""course_lib.utils helpers used across the library and the benchmark scripts."""


def test_git_commit_names_head_and_says_unknown_without_git(monkeypatch):
    import subprocess

    from course_lib.utils import git_commit

    full = git_commit(short=False)
    assert full == "unknown" or (len(full) == 40 and full.startswith(git_commit()))

    def no_git(*a, **k):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert git_commit() == "unknown"
