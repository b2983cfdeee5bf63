"""Which library files a workflow script depends on, read from the source.

Snakemake re-runs a rule when its inputs change but does not follow a script's imports,
so every rule declares the library files its script imports, directly or through other
modules, as inputs (``lib()`` in ``common.smk``). The walk reads the source, never
imports it: it sees ``import``/``from`` statements anywhere in a module (inside
functions too) and registry entries written ``"advspeech.pkg.module:attribute"``
(:class:`advspeech.core.registry.LazyRegistry`), which are imports made on first use.
Importing a module runs its packages' ``__init__`` files, so those count as well.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from pathlib import Path

PACKAGE = "advspeech"
SRC = Path(__file__).resolve().parents[2]
_REGISTRY_ENTRY = re.compile(rf"^({PACKAGE}(?:\.\w+)+):\w+$")


def module_file(name: str, src: Path = SRC) -> Path | None:
    """The file of dotted module ``name`` (a package's ``__init__.py``), or None."""
    base = src.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _packages(name: str) -> list[str]:
    """``a.b.c`` -> ``[a, a.b]``: the packages whose ``__init__`` importing it runs."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported_modules(path: Path, src: Path = SRC, packages: bool = True) -> set[str]:
    """Dotted names of the library modules the file at ``path`` imports (with
    ``packages``, also the packages whose ``__init__`` those imports run)."""
    stat = Path(path).stat()
    # every rule's lib() walks the same modules: parse each file once per version
    key = (str(path), stat.st_mtime_ns, stat.st_size, str(src), packages)
    return set(_imported_modules(*key))


@functools.cache
def _imported_modules(
    path: str, mtime_ns: int, size: int, src_name: str, packages: bool
) -> frozenset[str]:
    src = Path(src_name)
    found: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from pkg import mod` imports a submodule when one has that name
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            entry = _REGISTRY_ENTRY.match(node.value)
            if entry:
                found.add(entry.group(1))
    modules = set()
    for name in found:
        if (name == PACKAGE or name.startswith(PACKAGE + ".")) and module_file(name, src):
            modules.add(name)
            if packages:
                modules.update(_packages(name))
    return frozenset(modules)


@functools.cache
def _closure(name: str, src: Path) -> frozenset[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(imported_modules(module_file(current, src), src))
    return frozenset(seen)


def library_files(script: Path, src: Path = SRC) -> list[Path]:
    """Every library file ``script`` imports, directly or in turn, sorted."""
    modules: set[str] = set()
    for name in imported_modules(script, src):
        modules |= _closure(name, src)
    return sorted(module_file(m, src) for m in modules)


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Module -> the library modules it imports by name, for every module of the
    package (the packages' ``__init__`` files an import runs on the way are not edges:
    Python runs them before the submodule, so they cannot close a cycle through it)."""
    graph = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        rel = path.relative_to(src).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        graph[name] = imported_modules(path, src, packages=False) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


_REGISTRY_KEY = re.compile(r'config_key="(\w+)"')


@functools.cache
def _registry_keys(path: str, mtime_ns: int) -> tuple[str, ...]:
    """The ``config_key`` of every registry defined in the file (one read per version)."""
    return tuple(_REGISTRY_KEY.findall(Path(path).read_text()))


def registry_files(
    files: list[Path], registry: dict[str, dict[str, str]], src: Path = SRC
) -> list[Path]:
    """The source files of the implementations configured under ``registry`` (config
    ``registry.<key>``: name -> ``"module:attribute"``) that the library ``files`` can
    load: those of every registry defined in one of ``files`` (by its ``config_key``).
    A module that cannot be found is left out (the job's lookup names it)."""
    keys = {key for f in files for key in _registry_keys(str(f), Path(f).stat().st_mtime_ns)}
    found = set()
    for key in sorted(keys):
        for entry in registry.get(key, {}).values():
            module = entry.partition(":")[0]
            try:
                spec = importlib.util.find_spec(module)
            except (ImportError, ValueError):
                spec = None
            if spec is not None and spec.origin and Path(spec.origin).is_file():
                found.add(Path(spec.origin))
    return sorted(found)
