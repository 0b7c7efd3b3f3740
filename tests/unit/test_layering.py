"""The package's layering, checked on the source: imports point down only.

    app        lightrag (__init__), lightrag.cli, lightrag.compose, lightrag.server,
               lightrag.testing                                   -> anything
    engine     lightrag.core          -> itself, config, vocabulary
    bindings   lightrag.llm, lightrag.storage, lightrag.parsing
                                      -> itself, config, vocabulary (not each other)
    config     lightrag.config        -> itself, vocabulary
    vocabulary lightrag.vocabulary, lightrag.registry -> only each other

Every import counts: module level, inside functions, under ``TYPE_CHECKING``. The
engine reaches backends and models only through the protocols of
``lightrag.vocabulary``; the composition root (``lightrag.compose``) picks them.

The server uses the engine through its facade only: of ``lightrag.core`` it imports
``lightrag.core.engine`` alone, and it reads none of the facade's parts (``ctx``,
``storages``, ``pipeline``, ...) on any object.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lightrag

PACKAGE = Path(lightrag.__file__).resolve().parent
VOCABULARY = ("lightrag.vocabulary", "lightrag.registry")
CONFIG = ("lightrag.config",)
BINDINGS = ("lightrag.llm", "lightrag.storage", "lightrag.parsing")
ENGINE = ("lightrag.core",)
APP = ("lightrag.cli", "lightrag.compose", "lightrag.server", "lightrag.testing")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def allowed(importer: str) -> tuple[str, ...] | None:
    """The ``lightrag`` packages ``importer`` may import (None: anything)."""
    if importer == "lightrag" or _within(importer, APP):
        return None
    if _within(importer, VOCABULARY):
        return VOCABULARY
    if _within(importer, CONFIG):
        return CONFIG + VOCABULARY
    for binding in BINDINGS:
        if _within(importer, (binding,)):
            return (binding, *CONFIG, *VOCABULARY)
    if _within(importer, ENGINE):
        return ENGINE + CONFIG + VOCABULARY
    raise AssertionError(f"{importer} belongs to no layer: place it in tests/unit/test_layering.py")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(module: str) -> bool:
    relative = PACKAGE.joinpath(*module.split(".")[1:])
    return relative.is_dir() or relative.with_suffix(".py").is_file()


def _owning_module(dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a module of the package
    (``lightrag.core.prompts.X`` -> ``lightrag.core.prompts``)."""
    parts = dotted.split(".")
    while len(parts) > 1 and not _is_module(".".join(parts)):
        parts.pop()
    return ".".join(parts)


def lightrag_imports(source: str, name: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, module of ``lightrag``) for every import in ``source``, wherever it sits
    (functions, ``TYPE_CHECKING`` blocks), relative imports resolved against ``name``."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [
            (node.lineno, _owning_module(target))
            for target in targets
            if target == "lightrag" or target.startswith("lightrag.")
        ]
    return found


def violations(source: str, name: str, *, is_package: bool = False) -> list[str]:
    """The imports of module ``name`` (text ``source``) that break the layering."""
    permitted = allowed(name)
    if permitted is None:
        return []
    return [
        f"line {line}: {target}"
        for line, target in lightrag_imports(source, name, is_package=is_package)
        # a bare "lightrag" is the app's lazy top-level API ("from lightrag import LightRAG")
        if target == "lightrag" or not _within(target, permitted)
    ]


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_parsed() -> None:
    assert len(SOURCES) > 50  # the walk found the package, so the checks below mean something


@pytest.mark.parametrize("path", SOURCES, ids=[module_name(p) for p in SOURCES])
def test_module_imports_only_its_own_layer_and_below(path: Path) -> None:
    name = module_name(path)
    bad = violations(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py")
    assert not bad, f"{name} imports above or beside its layer:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (
            "lightrag.llm.probe",
            "def f():\n    if TYPE_CHECKING:\n        from ..core import tokenizer\n",
        ),
        ("lightrag.llm.probe", "import lightrag.storage.kv_json\n"),
        ("lightrag.core.probe", "from lightrag.llm.openai import OpenAIChatModel\n"),
        ("lightrag.core.probe", "from lightrag import LightRAG\n"),
        ("lightrag.config.probe", "from lightrag.core.tokenizer import Tokenizer\n"),
        ("lightrag.vocabulary.probe", "from lightrag.config.models import RagConfig\n"),
    ],
)
def test_the_checker_catches_an_import_against_the_layering(name: str, source: str) -> None:
    assert violations(source, name)


def test_the_checker_accepts_imports_down_the_layers() -> None:
    source = (
        "from lightrag.config.models import RagConfig\n"
        "from lightrag.vocabulary.models import ChatModel\nfrom . import _shared\n"
    )
    assert violations(source, "lightrag.llm.probe") == []


def test_importing_the_storage_protocols_loads_nothing_else_of_the_package() -> None:
    code = (
        "import json, sys; import lightrag.vocabulary.storage; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'lightrag', 'numpy', 'pydantic'})))"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert loaded == ["lightrag", "lightrag.vocabulary", "lightrag.vocabulary.storage"]


# The facade's parts: what the server must not reach through (``config`` is the plain
# RagConfig value, and the server's own AppConfig is also called ``config``).
ENGINE_PARTS = frozenset(
    {"ctx", "storages", "pipeline", "query_engine", "graph_editor", "coordinator", "replica_watch"}
)
SERVER_SOURCES = sorted((PACKAGE / "server").rglob("*.py"))


def facade_bypasses(source: str, name: str, *, is_package: bool = False) -> list[str]:
    """Where server module ``name`` imports engine modules other than the facade, or
    reads an attribute named like a part of the facade (on any object: the check cannot
    know types, so the part names are kept distinct from every other name)."""
    found = [
        f"line {line}: imports {target}"
        for line, target in lightrag_imports(source, name, is_package=is_package)
        if _within(target, ENGINE) and target != "lightrag.core.engine"
    ]
    found += [
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_PARTS
    ]
    return found


def test_engine_parts_name_every_part_the_facade_builds() -> None:
    engine = ast.parse((PACKAGE / "core" / "engine.py").read_text(encoding="utf-8"))
    (init,) = (
        node
        for cls in engine.body
        if isinstance(cls, ast.ClassDef) and cls.name == "LightRAG"
        for node in cls.body
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    )
    assigned = {
        target.attr
        for node in ast.walk(init)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }
    assert assigned - {"config", "owns_models"} <= ENGINE_PARTS, (
        "add the facade's new part to ENGINE_PARTS"
    )
    assert {"ctx", "pipeline"} <= assigned


def test_server_modules_are_found() -> None:
    assert len(SERVER_SOURCES) > 10


@pytest.mark.parametrize("path", SERVER_SOURCES, ids=[module_name(p) for p in SERVER_SOURCES])
def test_server_module_uses_only_the_engine_facade(path: Path) -> None:
    name = module_name(path)
    source = path.read_text(encoding="utf-8")
    bad = facade_bypasses(source, name, is_package=path.name == "__init__.py")
    assert not bad, f"{name} reaches past the LightRAG facade:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "source",
    [
        "async def f(rag):\n    return await rag.ctx.llm.complete('hi')\n",
        "def f(request):\n    return request.app.state.rag.storages.doc_status\n",
        "def f(engine):\n    engine.pipeline.start()\n",
        "from lightrag.core.kg_edit import GraphEditor\n",
        "from ..core import query\n",
    ],
)
def test_the_facade_check_catches_a_reach_past_the_facade(source: str) -> None:
    assert facade_bypasses(source, "lightrag.server.probe")


def test_the_facade_check_accepts_facade_calls() -> None:
    source = (
        "from lightrag.core.engine import LightRAG\n"
        "async def f(rag: LightRAG):\n"
        "    await rag.document_counts()\n    rag.pipeline_status.busy\n"
    )
    assert facade_bypasses(source, "lightrag.server.probe") == []
