"""The package boundaries the README and the layout promise, checked statically.

Every `.py` file of the packages is parsed with `ast` (not imported), so
every import counts: at module level, inside functions, under
`if TYPE_CHECKING:`, relative ones, and `importlib.import_module("...")` /
`__import__("...")` with a literal name.

* `edge_agent` and `cloud` never import each other; both speak only `vmi/`.
* `vmi` (the shared kernel) imports none of `edge_agent`, `cloud`, `firmware_sim`.
  (The `vmi` command dispatches to them by a module name held in a string,
  imported only when used; that is not an import statement and is allowed.)
* `cloud/ingest/` (the collector) never imports the replenishment side
  (`cloud.replenishment`, `cloud.service`), and `cloud/replenishment/` never
  imports `cloud.ingest`: they meet in `cloud/service.py`, which wires them.

And test helpers live in conftest files or helper modules: no file under
`tests/` imports from a `test_*` module (pytest would collect that module's
tests twice, and a fixture imported by name shadows conftest's).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vmi", "edge_agent", "cloud", "firmware_sim")


@dataclass(frozen=True)
class Rule:
    """Files under `folder` (a path relative to the root, ending in "/") must
    not import `forbidden` modules or anything inside them."""

    folder: str
    forbidden: tuple[str, ...]
    why: str


RULES = (
    Rule("edge_agent/", ("cloud",), "edge_agent and cloud never import each other"),
    Rule("cloud/", ("edge_agent",), "edge_agent and cloud never import each other"),
    Rule(
        "vmi/",
        ("edge_agent", "cloud", "firmware_sim"),
        "the shared kernel imports no package built on it",
    ),
    Rule(
        "cloud/ingest/",
        ("cloud.replenishment", "cloud.service"),
        "ingest never reaches into replenishment",
    ),
    Rule("cloud/replenishment/", ("cloud.ingest",), "replenishment never reaches into ingest"),
)


@dataclass(frozen=True)
class Import:
    """One module an import statement names, as an absolute dotted name."""

    line: int
    module: str
    statement: str
    member: bool = False  # the `c` of `from a.b import c`: a submodule or a name


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    statement: str
    module: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: `{self.statement}` imports {self.module} ({self.why})"


def module_name(path: str) -> tuple[str, bool]:
    """`cloud/ingest/x.py` -> ("cloud.ingest.x", False); `.../__init__.py` -> (package, True)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _statement(source: str, node: ast.AST) -> str:
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    return " ".join(text.split())


def _resolve_relative(path: str, level: int, module: str | None) -> str | None:
    """The absolute name of `from <level dots><module> import ...` in the file `path`."""
    name, is_package = module_name(path)
    package = name.split(".") if is_package else name.split(".")[:-1]
    if level - 1 > len(package) - 1:
        return None  # beyond the top-level package: fails at run time anyway
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_of(path: str, source: str) -> Iterator[Import]:
    """Every module the file at `path` (relative to the root) imports, anywhere in it.

    `from a.b import c` names both `a.b` and `a.b.c` (c may be a submodule).
    """
    tree = ast.parse(source, filename=path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, alias.name, _statement(source, node))
        elif isinstance(node, ast.ImportFrom):
            level, module = node.level, node.module
            base = _resolve_relative(path, level, module) if level else module
            if base is None:
                continue
            statement = _statement(source, node)
            yield Import(node.lineno, base, statement)
            for alias in node.names:
                if alias.name != "*":
                    yield Import(node.lineno, f"{base}.{alias.name}", statement, member=True)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Import(node.lineno, first.value, _statement(source, node))


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def boundary_violations(path: str, source: str) -> list[Violation]:
    """What the file at `path` (relative to the root, with "/") imports against `RULES`."""
    found: dict[tuple[int, str, str], Violation] = {}
    rules = [rule for rule in RULES if path.startswith(rule.folder)]
    if not rules:
        return []
    for imp in imports_of(path, source):
        for rule in rules:
            for forbidden in rule.forbidden:
                if _inside(imp.module, forbidden):
                    key = (imp.line, imp.statement, forbidden)
                    # Report `from a import b` once, by the most specific name.
                    found[key] = Violation(
                        path, imp.line, imp.statement, imp.module, f"{rule.folder}: {rule.why}"
                    )
    return sorted(found.values(), key=lambda v: (v.path, v.line, v.module))


def imports_of_test_modules(path: str, source: str) -> list[Violation]:
    """Imports, in the file at `path`, of a module whose name starts with `test_`."""
    found: dict[tuple[int, str], Violation] = {}
    for imp in imports_of(path, source):
        parts = imp.module.split(".")
        if not any(part.startswith("test_") for part in parts):
            continue
        # `from x import test_y` names a module only if x/test_y is one (it
        # may be a function of x); every other name is a module's.
        if imp.member and not any(p.startswith("test_") for p in parts[:-1]):
            where = ROOT.joinpath(*parts)
            if not (where.with_suffix(".py").is_file() or where.is_dir()):
                continue
        found.setdefault(
            (imp.line, imp.statement),
            Violation(
                path,
                imp.line,
                imp.statement,
                imp.module,
                "helpers belong in a conftest.py or a helper module, not in a test_ module",
            ),
        )
    return list(found.values())


def source_files(*top: str) -> list[Path]:
    return sorted(path for name in top for path in (ROOT / name).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def all_boundary_violations() -> list[Violation]:
    return [
        v
        for path in source_files(*PACKAGES)
        for v in boundary_violations(relative(path), path.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.folder}!{','.join(r.forbidden)}")
def test_package_boundaries(rule: Rule) -> None:
    files = [p for p in source_files(*PACKAGES) if relative(p).startswith(rule.folder)]
    assert files, f"no Python files under {rule.folder}: has the package moved?"
    violations = [
        v
        for path in files
        for v in boundary_violations(relative(path), path.read_text(encoding="utf-8"))
        if v.why.startswith(rule.folder)
    ]
    assert not violations, "forbidden imports:\n" + "\n".join(str(v) for v in violations)


def test_the_boundary_check_finds_the_files() -> None:
    files = source_files(*PACKAGES)
    assert len(files) > 50, f"only {len(files)} files found under {PACKAGES}: wrong root?"
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py").is_file(), package
    for folder in ("cloud/ingest", "cloud/replenishment"):
        assert len(source_files(folder)) >= 3, folder


@pytest.mark.parametrize(
    ("path", "source", "module"),
    [
        (
            "cloud/replenishment/x.py",
            "from cloud.ingest import collector",
            "cloud.ingest.collector",
        ),
        ("cloud/replenishment/x.py", "import cloud.ingest.points as p", "cloud.ingest.points"),
        ("cloud/replenishment/x.py", "from cloud import ingest", "cloud.ingest"),
        ("cloud/replenishment/x.py", "from ..ingest.decode import f", "cloud.ingest.decode"),
        ("cloud/replenishment/demand/x.py", "from ...ingest import points", "cloud.ingest.points"),
        ("cloud/replenishment/__init__.py", "from ..ingest import points", "cloud.ingest.points"),
        (
            "cloud/ingest/x.py",
            "def f() -> None:\n    from cloud.service import run",
            "cloud.service",
        ),
        ("cloud/ingest/x.py", "from .. import service", "cloud.service"),
        (
            "cloud/ingest/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from cloud.replenishment.policy import Policy",
            "cloud.replenishment.policy",
        ),
        (
            "cloud/ingest/x.py",
            "import importlib\nimportlib.import_module('cloud.service')",
            "cloud.service",
        ),
        ("cloud/x.py", "import edge_agent", "edge_agent"),
        ("cloud/api/x.py", "from edge_agent.drivers import scale", "edge_agent.drivers"),
        ("edge_agent/x.py", "from cloud.timeseries import LevelPoint", "cloud.timeseries"),
        ("edge_agent/drivers/x.py", "import cloud.ingest", "cloud.ingest"),
        ("vmi/x.py", "from firmware_sim import demo", "firmware_sim"),
        ("vmi/x.py", "def f() -> None:\n    import cloud.cli", "cloud.cli"),
    ],
)
def test_the_boundary_check_reports_a_forbidden_import(path: str, source: str, module: str) -> None:
    violations = boundary_violations(path, source)
    assert violations, f"not reported: {source!r} in {path}"
    last = source.count("\n") + 1
    assert any(v.path == path and v.line == last for v in violations), violations
    assert any(v.module.startswith(module) for v in violations), violations
    message = str(violations[0])
    assert message.startswith(f"{path}:{last}: `"), message
    assert source.splitlines()[-1].strip() in message, message
    assert violations[0].module in message, message


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("cloud/service.py", "from cloud.ingest import collector\nfrom cloud import replenishment"),
        (
            "cloud/replenishment/x.py",
            "from cloud.ingestion import x\nfrom cloud.timeseries import y",
        ),
        ("cloud/replenishment/x.py", "from .policy import Policy\nfrom . import alerts"),
        ("cloud/ingest/x.py", "from . import decode\nfrom ..timeseries import LevelPoint"),
        ("cloud/ingest/x.py", "from cloud.servicing import x"),
        ("edge_agent/x.py", "from vmi.wire import encode\nimport cloudpickle"),
        ("vmi/x.py", "from vmi import wire\nfrom . import clock"),
        ("firmware_sim/x.py", "import edge_agent\nimport cloud"),
        ("bench/x.py", "import edge_agent\nimport cloud"),
    ],
)
def test_the_boundary_check_allows_what_is_allowed(path: str, source: str) -> None:
    assert boundary_violations(path, source) == []


def test_no_file_under_tests_imports_a_test_module() -> None:
    files = source_files("tests")
    assert len(files) > 50, f"only {len(files)} test files found: wrong root?"
    violations = [
        v
        for path in files
        for v in imports_of_test_modules(relative(path), path.read_text(encoding="utf-8"))
    ]
    assert not violations, "imports of test modules:\n" + "\n".join(str(v) for v in violations)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("from tests.vmi.test_wire import batch_dict", True),
        ("import tests.vmi.test_wire", True),
        ("import tests.vmi.test_wire as w", True),
        ("from tests.vmi import test_wire", True),
        ("from test_wire import batch_dict", True),
        ("def f() -> None:\n    from tests.cloud.timeseries.test_store_contract import T0", True),
        ("from tests.vmi.wire_samples import batch_dict", False),
        ("from tests.cloud.timeseries.samples import T0", False),
        ("from tests.servers import MosquittoServer", False),
        ("import pytest", False),
    ],
)
def test_the_test_module_check_reports_imports_of_test_modules(source: str, flagged: bool) -> None:
    found = imports_of_test_modules("tests/vmi/test_x.py", source)
    assert bool(found) == flagged, found
    if flagged:
        assert str(found[0]).startswith(f"tests/vmi/test_x.py:{source.count(chr(10)) + 1}: `")
