"""Packaging: the explicit `packages` list covers every subpackage, and the wheel's files are complete."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = {"core": "runyard", "tui": "runyard.tui"}


def _pyproject() -> dict:  # type: ignore[type-arg]
    with (ROOT / "pyproject.toml").open("rb") as stream:
        return tomllib.load(stream)


def _package_of(folder: Path) -> str:
    relative = folder.relative_to(ROOT)
    head, *rest = relative.parts
    return ".".join([SOURCE_ROOTS[head], *rest])


def _package_folders() -> dict[str, Path]:
    folders: dict[str, Path] = {}
    for source in SOURCE_ROOTS:
        for init in sorted((ROOT / source).rglob("__init__.py")):
            if "__pycache__" not in init.parts:
                folders[_package_of(init.parent)] = init.parent
    return folders


def test_package_dir_maps_core_and_tui() -> None:
    setuptools_config = _pyproject()["tool"]["setuptools"]
    assert setuptools_config["package-dir"] == {"runyard": "core", "runyard.tui": "tui"}


def test_packages_list_matches_every_folder_with_init() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    on_disk = set(_package_folders())
    assert not on_disk - listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert not listed - on_disk, f"listed but no such folder with __init__.py: {sorted(listed - on_disk)}"


def test_every_folder_with_python_files_is_a_package() -> None:
    for source in SOURCE_ROOTS:
        for python_file in (ROOT / source).rglob("*.py"):
            if "__pycache__" in python_file.parts:
                continue
            assert (python_file.parent / "__init__.py").exists(), f"{python_file.parent} lacks __init__.py"


def test_package_data_covers_every_tcss_file() -> None:
    package_data: dict[str, list[str]] = _pyproject()["tool"]["setuptools"].get("package-data", {})
    tcss_files = [p for p in (ROOT / "tui").rglob("*.tcss") if "__pycache__" not in p.parts]
    assert tcss_files, "the TUI has at least app.tcss"
    for tcss in tcss_files:
        package = _package_of(tcss.parent)
        patterns = package_data.get(package, []) + package_data.get("*", [])
        assert any(fnmatch.fnmatch(tcss.name, pattern) for pattern in patterns), (
            f"{tcss.relative_to(ROOT)} is not in package-data of {package}"
        )


def test_build_copies_every_module_and_stylesheet(tmp_path: Path) -> None:
    """What setuptools would put in the wheel: every module and .tcss under runyard/, no core/ or tui/."""
    pytest.importorskip("setuptools")
    work = tmp_path / "src"
    work.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, work / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for source in SOURCE_ROOTS:
        shutil.copytree(ROOT / source, work / source, ignore=ignore)
    out = tmp_path / "build"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "-q",
            "build_py",
            "--build-lib",
            str(out),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["runyard"]  # nothing named core or tui
    for source, package in SOURCE_ROOTS.items():
        target = out.joinpath(*package.split("."))
        for path in (ROOT / source).rglob("*"):
            if "__pycache__" in path.parts or path.suffix not in (".py", ".tcss"):
                continue
            relative = path.relative_to(ROOT / source)
            if source == "core" and relative.parts[0] == "tui":
                continue
            assert (target / relative).is_file(), f"{path.relative_to(ROOT)} is missing from the build"
