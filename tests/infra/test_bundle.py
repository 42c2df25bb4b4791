"""`xray-signup bundle`: exactly the files Elastic Beanstalk needs, the set `.ebignore` keeps."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pathspec  # the EB CLI's matcher; installed with the dev tools (mypy depends on it)
import pytest

from infra.cli import main
from infra.deploy.bundle import (
    BUNDLE_ENTRIES,
    LOCAL_ONLY_FILES,
    BundleError,
    build_bundle,
    bundle_files,
)

NEEDED = {
    "Procfile",
    "requirements.txt",
    ".ebextensions/01-resources.config",
    ".platform/hooks/predeploy/01-note.sh",
    "app/__init__.py",
    "app/static/app.css",
    "app/sampling-rules.json",
    "loadgen/__init__.py",
    "loadgen/locustfile.py",
    "hostguard/__init__.py",
}
JUNK = {
    "app/__pycache__/__init__.cpython-311.pyc",
    "app/views/__pycache__/x.cpython-311.pyc",
    "app/stale.pyc",
    "app/static/.DS_Store",
    "app/templates/index.html.swp",
    "app/templates/index.html~",
    "loadgen/node_modules/x/index.js",
    "app/.mypy_cache/3.11/x.json",
    "loadgen/loadgen.egg-info/PKG-INFO",
    "loadgen/.pytest_cache/v/cache/nodeids",
    "tests/infra/test_bundle.py",
    "tests/conftest.py",
    ".git/HEAD",
    ".venv/bin/python",
    ".mypy_cache/3.11/app.json",
    "dist/xray-signup-old.zip",
    "xray_local/store/traces.py",
    "infra/deploy/bundle.py",
    "README.md",
    "pyproject.toml",
    ".gitignore",
    ".elasticbeanstalk/config.yml",
    "xray_signup.egg-info/PKG-INFO",
    # local only: the failure-scenario panel never shows on Elastic Beanstalk
    "app/templates/_scenarios.html",
    "app/static/scenarios.js",
}


@pytest.fixture
def tree(tmp_path: Path, repo_root: Path) -> Path:
    """A project tree with everything a working copy accumulates, and the real .ebignore."""
    root = tmp_path / "project"
    for name in NEEDED | JUNK:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    (root / ".platform/hooks/predeploy/01-note.sh").chmod(0o755)
    shutil.copy(repo_root / ".ebignore", root / ".ebignore")
    return root


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def test_bundle_holds_exactly_what_eb_needs(tree: Path, tmp_path: Path) -> None:
    result = build_bundle(tree, tmp_path / "dist", version="1.2.3")
    assert result.path == tmp_path / "dist" / "xray-signup-1.2.3.zip"
    assert _names(result.path) == NEEDED
    assert set(result.members) == NEEDED


def test_bundle_keeps_the_hooks_executable(tree: Path, tmp_path: Path) -> None:
    result = build_bundle(tree, tmp_path, version="x")
    with zipfile.ZipFile(result.path) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert modes[".platform/hooks/predeploy/01-note.sh"] == 0o755
    assert modes["Procfile"] == 0o644


def test_bundle_is_reproducible(tree: Path, tmp_path: Path) -> None:
    first = build_bundle(tree, tmp_path / "a", version="v").path.read_bytes()
    second = build_bundle(tree, tmp_path / "b", version="v").path.read_bytes()
    assert first == second


def test_ebignore_keeps_the_same_files_as_the_bundle(tree: Path) -> None:
    """`eb deploy` reads .ebignore with pathspec's gitwildmatch, as the EB CLI does."""
    lines = (tree / ".ebignore").read_text().splitlines()
    spec = pathspec.PathSpec.from_lines("gitwildmatch", lines)
    ignored = {entry.path for entry in spec.match_tree_entries(str(tree))} | {".ebignore"}
    every_file = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    uploaded = every_file - ignored
    assert uploaded == {p.as_posix() for p in bundle_files(tree)} == NEEDED


def test_platform_folder_is_optional_and_the_rest_required(tree: Path, tmp_path: Path) -> None:
    shutil.rmtree(tree / ".platform")
    assert ".platform/hooks/predeploy/01-note.sh" not in build_bundle(tree, tmp_path).members
    (tree / "Procfile").unlink()
    with pytest.raises(BundleError, match="Procfile"):
        build_bundle(tree, tmp_path)


def test_the_repository_bundle(repo_root: Path, tmp_path: Path) -> None:
    """This checkout bundles: top level as EB expects, nothing from development."""
    names = _names(build_bundle(repo_root, tmp_path, version="t").path)
    assert {"Procfile", "requirements.txt"} <= names
    assert {name.split("/", 1)[0] for name in names} <= set(BUNDLE_ENTRIES)
    assert any(name.startswith(".ebextensions/") for name in names)
    assert any(name.startswith("app/") for name in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]


def test_the_repository_bundle_holds_no_local_only_file(repo_root: Path, tmp_path: Path) -> None:
    """The failure-scenario panel is in the checkout (the local stack shows it), not the bundle."""
    for name in LOCAL_ONLY_FILES:
        assert (repo_root / name).is_file(), f"{name} is gone: update LOCAL_ONLY_FILES"
    names = _names(build_bundle(repo_root, tmp_path, version="t").path)
    assert not names & LOCAL_ONLY_FILES
    assert {"app/templates/index.html", "app/templates/_generator.html"} <= names


def test_cli_writes_and_reports_the_zip(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(["bundle", "--root", str(tree), "--output-dir", str(out), "--version", "v9"])
    assert status == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'xray-signup-v9.zip'}" in printed
    assert f"{len(NEEDED)} files" in printed
    assert "app/" in printed and "loadgen/" in printed


def test_cli_fails_clearly_without_a_procfile(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "Procfile").unlink()
    assert main(["bundle", "--root", str(tree), "--output-dir", str(tmp_path)]) == 1
    assert "Procfile" in capsys.readouterr().out


def test_default_version_is_the_git_commit(repo_root: Path, tmp_path: Path) -> None:
    if shutil.which("git") is None or not (repo_root / ".git").exists():
        pytest.skip("no git checkout")
    from infra.deploy.bundle import default_version

    version = default_version(repo_root)
    assert version.split("-")[0].isalnum() and len(version.split("-")[0]) >= 7
    assert default_version(tmp_path) == "dev"
