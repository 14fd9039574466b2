"""The engine stays pure and safe: no I/O or network imports, no eval/exec, no attribute access."""

from __future__ import annotations

import ast
from pathlib import Path

import isthmus.mapping

PACKAGE = Path(isthmus.mapping.__file__).parent
# Only the loader reads files; nothing in the package talks to a network or runs processes.
FORBIDDEN = {
    "httpx",
    "requests",
    "confluent_kafka",
    "msal",
    "faust",
    "socket",
    "ssl",
    "urllib",
    "http",
    "asyncio",
    "subprocess",
    "multiprocessing",
    "threading",
    "sqlite3",
    "shutil",
    "pickle",
}
FILE_ACCESS = {"pathlib", "io", "os", "importlib", "csv", "tempfile"}
LOADER = PACKAGE / "loader.py"
UNSAFE_CALLS = {
    "eval",
    "exec",
    "compile",
    "getattr",
    "setattr",
    "__import__",
    "open",
    "globals",
    "vars",
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_network_or_process_imports_anywhere() -> None:
    for path in modules():
        assert not imported(path) & FORBIDDEN, path


def test_only_the_loader_touches_files() -> None:
    for path in modules():
        if path != LOADER:
            assert not imported(path) & FILE_ACCESS, path


def test_no_dynamic_code_execution_or_reflection() -> None:
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in UNSAFE_CALLS, (
                    f"{path}:{node.lineno} calls {node.func.id}"
                )
