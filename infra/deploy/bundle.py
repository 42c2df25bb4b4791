"""`xray-signup bundle`: the Elastic Beanstalk source bundle, for a console upload.

Elastic Beanstalk wants a zip with the Procfile, requirements.txt and the config folders at its
root. The bundle holds exactly what the instances need (the same set `.ebignore` lets `eb deploy`
upload) and nothing a developer has lying around: no tests, .git, virtualenvs or caches. Entries
are written in sorted order with a fixed timestamp, so the same tree gives the same bytes.
"""

from __future__ import annotations

import argparse
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUNDLE_ENTRIES",
    "LOCAL_ONLY_FILES",
    "OPTIONAL_ENTRIES",
    "BundleError",
    "BundleResult",
    "build_bundle",
    "bundle_files",
    "default_version",
    "register",
]

#: Top-level files and folders of the bundle, in the order EB documents them.
BUNDLE_ENTRIES: tuple[str, ...] = (
    "Procfile",
    "requirements.txt",
    ".ebextensions",
    ".platform",
    "app",
    "loadgen",
    "hostguard",
)
#: Entries the bundle may do without (the rest must exist).
OPTIONAL_ENTRIES: frozenset[str] = frozenset({".platform"})
#: Folder names never shipped, wherever they appear.
EXCLUDED_DIRS: frozenset[str] = frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", ".venv", "node_modules"}
)
#: File suffixes never shipped.
EXCLUDED_SUFFIXES: tuple[str, ...] = (".pyc", ".pyo", ".pyd", ".swp", "~")
EXCLUDED_NAMES: frozenset[str] = frozenset({".DS_Store", "Thumbs.db"})
#: Files that only the local stack uses: the failure-scenario panel, which the app shows only
#: with a local SCENARIO_API_URL and endpoint (app/views/scenarios.py), never on Elastic Beanstalk.
#: `.ebignore` leaves out the same files.
LOCAL_ONLY_FILES: frozenset[str] = frozenset(
    {"app/templates/_scenarios.html", "app/static/scenarios.js"}
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(Exception):
    """The tree cannot make a bundle (a required entry is missing)."""


@dataclass(frozen=True)
class BundleResult:
    path: Path
    members: tuple[str, ...]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def _excluded(path: Path) -> bool:
    return path.name in EXCLUDED_NAMES or path.name.endswith(EXCLUDED_SUFFIXES)


def _walk(directory: Path, root: Path) -> Iterator[Path]:
    for child in sorted(directory.iterdir()):
        if child.is_dir():
            if child.name not in EXCLUDED_DIRS and not child.name.endswith(".egg-info"):
                yield from _walk(child, root)
        elif child.is_file() and not _excluded(child):
            relative = child.relative_to(root)
            if relative.as_posix() not in LOCAL_ONLY_FILES:
                yield relative


def bundle_files(root: Path) -> list[Path]:
    """The files of the bundle, relative to `root`, sorted; raises if a required entry is absent."""
    files: list[Path] = []
    for entry in BUNDLE_ENTRIES:
        path = root / entry
        if not path.exists():
            if entry in OPTIONAL_ENTRIES:
                continue
            raise BundleError(f"{path} is missing: Elastic Beanstalk needs it in the bundle")
        if path.is_dir():
            files.extend(_walk(path, root))
        else:
            files.append(path.relative_to(root))
    return files


def default_version(root: Path) -> str:
    """The short git commit of `root` (with `-dirty` for uncommitted changes), else "dev"."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *BUNDLE_ENTRIES],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "dev"
    return f"{sha}-dirty" if dirty else sha


def build_bundle(
    root: Path = PROJECT_ROOT, output_dir: Path | None = None, version: str | None = None
) -> BundleResult:
    """Write `<output_dir>/xray-signup-<version>.zip` and return its path and members."""
    files = bundle_files(root)
    out = (root / "dist") if output_dir is None else output_dir
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"xray-signup-{version or default_version(root)}.zip"
    members: list[str] = []
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            source = root / relative
            info = zipfile.ZipInfo(relative.as_posix(), date_time=_ZIP_EPOCH)
            executable = source.stat().st_mode & stat.S_IXUSR
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, source.read_bytes())
            members.append(info.filename)
    tmp.replace(target)
    return BundleResult(path=target, members=tuple(members))


def _run(args: argparse.Namespace) -> int:
    try:
        result = build_bundle(args.root, args.output_dir, args.version)
    except BundleError as exc:
        print(f"xray-signup bundle: {exc}")
        return 1
    print(f"wrote {result.path} ({len(result.members)} files, {result.size} bytes):")
    counts: dict[str, int] = {}
    for member in result.members:
        top = member.split("/", 1)[0]
        counts[top] = counts.get(top, 0) + 1
    for top, count in counts.items():
        suffix = "/" if (args.root / top).is_dir() else ""
        print(f"  {top}{suffix}  {count} file{'s' if count != 1 else ''}")
    print("upload it in the Elastic Beanstalk console (Upload your code); `eb deploy` packs the")
    print("same files from the working tree itself (.ebignore)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `bundle` subcommand."""
    parser = subparsers.add_parser(
        "bundle",
        help="build the Elastic Beanstalk source bundle (zip under dist/)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", help="label in the file name (default: the git commit)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="where the zip goes (default: dist/ in the project)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=PROJECT_ROOT,
        help="the project folder to bundle (default: this checkout)",
    )
    parser.set_defaults(func=_run)
