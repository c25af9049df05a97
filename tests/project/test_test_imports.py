"""What tests share lives in tests/helpers (the fault suite's in tests/faults/chain.py and
harness.py), so each test module stands alone: none imports another."""

import ast
from pathlib import Path

TESTS = Path(__file__).parents[1]


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_test_module_imports_another():
    offending = {
        str(path.relative_to(TESTS)): sorted(m for m in imported(path) if m.rsplit(".", 1)[-1].startswith("test_"))
        for path in TESTS.rglob("*.py")
        if "histories" not in path.parts
    }
    assert {path: modules for path, modules in offending.items() if modules} == {}
