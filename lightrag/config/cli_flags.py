"""The launcher's command line: the seed's flags, the launcher's own, and Hydra overrides.

Every seed flag stands for the seed env var of the same setting (``--port`` is
``PORT``, ``--kv-storage`` is ``LIGHTRAG_KV_STORAGE``): a flag is the top layer of
the env-like settings, so it reaches the config by exactly the path its env var
takes, and beats it. Anything that is not a flag is a Hydra override
(``+recipe=NAME``, ``server.port=9622``, ``storage/vector=nano``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lightrag.config.errors import ConfigError
from lightrag.config.loader import SeedFlag

__all__ = ["SEED_FLAGS", "FlagSpec", "LauncherArgs", "build_parser", "parse_args"]


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """A seed flag: its spelling(s), the env var it stands for, and whether it is a switch."""

    flags: tuple[str, ...]
    env_name: str
    help: str
    switch: bool = False
    metavar: str | None = None


SEED_FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(("--host",), "HOST", "bind address (server.host)"),
    FlagSpec(("--port",), "PORT", "port (server.port)", metavar="N"),
    FlagSpec(("--working-dir",), "WORKING_DIR", "storage directory (server.working_dir)"),
    FlagSpec(("--input-dir",), "INPUT_DIR", "documents to scan (server.input_dir)"),
    FlagSpec(("--workspace",), "WORKSPACE", "data isolation name (server.workspace)"),
    FlagSpec(("--namespace-prefix",), "NAMESPACE_PREFIX", "the seed's name for --workspace"),
    FlagSpec(("--timeout",), "TIMEOUT", "seconds per LLM call and request; 'none' = no limit"),
    FlagSpec(("--max-async",), "MAX_ASYNC", "concurrent LLM calls (rag.max_async)", metavar="N"),
    FlagSpec(("--max-tokens",), "MAX_TOKENS", "LLM context size (Ollama num_ctx)", metavar="N"),
    FlagSpec(("--log-level",), "LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    FlagSpec(("--verbose",), "VERBOSE", "verbose debug output", switch=True),
    FlagSpec(("--key",), "LIGHTRAG_API_KEY", "API key required in X-API-Key (server.api_key)"),
    FlagSpec(("--ssl",), "SSL", "serve HTTPS (needs --ssl-certfile and --ssl-keyfile)", True),
    FlagSpec(("--ssl-certfile",), "SSL_CERTFILE", "TLS certificate file"),
    FlagSpec(("--ssl-keyfile",), "SSL_KEYFILE", "TLS private key file"),
    FlagSpec(("--top-k",), "TOP_K", "entities/relations retrieved (rag.top_k)", metavar="N"),
    FlagSpec(("--cosine-threshold",), "COSINE_THRESHOLD", "vector match threshold", metavar="X"),
    FlagSpec(("--history-turns",), "HISTORY_TURNS", "chat turns sent to the LLM", metavar="N"),
    FlagSpec(("--chunk-size", "--chunk_size"), "CHUNK_SIZE", "chunk tokens", metavar="N"),
    FlagSpec(
        ("--chunk-overlap-size", "--chunk_overlap_size"),
        "CHUNK_OVERLAP_SIZE",
        "chunk overlap tokens",
        metavar="N",
    ),
    FlagSpec(
        ("--auto-scan-at-startup",),
        "AUTO_SCAN_AT_STARTUP",
        "index new files of --input-dir at start-up",
        switch=True,
    ),
    FlagSpec(("--simulated-model-name",), "SIMULATED_MODEL_NAME", "model name of the Ollama API"),
    FlagSpec(("--simulated-model-tag",), "OLLAMA_EMULATING_MODEL_TAG", "its tag (latest)"),
    FlagSpec(("--llm-binding",), "LLM_BINDING", "LLM group option (or openai-ollama)"),
    FlagSpec(("--llm-model",), "LLM_MODEL", "LLM model name"),
    FlagSpec(("--llm-binding-host",), "LLM_BINDING_HOST", "LLM server URL"),
    FlagSpec(("--llm-binding-api-key",), "LLM_BINDING_API_KEY", "LLM API key"),
    FlagSpec(("--embedding-binding",), "EMBEDDING_BINDING", "embedding group option"),
    FlagSpec(("--embedding-model",), "EMBEDDING_MODEL", "embedding model name"),
    FlagSpec(("--embedding-binding-host",), "EMBEDDING_BINDING_HOST", "embedding server URL"),
    FlagSpec(("--embedding-binding-api-key",), "EMBEDDING_BINDING_API_KEY", "embedding API key"),
    FlagSpec(("--embedding-dim",), "EMBEDDING_DIM", "embedding vector size", metavar="N"),
    FlagSpec(("--max-embed-tokens",), "MAX_EMBED_TOKENS", "embedding input limit", metavar="N"),
    FlagSpec(("--kv-storage",), "LIGHTRAG_KV_STORAGE", "storage/kv option or seed class name"),
    FlagSpec(("--vector-storage",), "LIGHTRAG_VECTOR_STORAGE", "storage/vector option"),
    FlagSpec(("--graph-storage",), "LIGHTRAG_GRAPH_STORAGE", "storage/graph option"),
    FlagSpec(
        ("--coordination",), "LIGHTRAG_COORDINATION", "coordination option (local, postgres, redis)"
    ),
    FlagSpec(
        ("--replicas",),
        "LIGHTRAG_REPLICAS",
        "server processes sharing the databases (server.replicas)",
    ),
    FlagSpec(("--doc-status-storage",), "LIGHTRAG_DOC_STATUS_STORAGE", "storage/doc_status"),
)

USAGE = "lightrag-server [+recipe=NAME] [hydra overrides ...] [flags ...]"
DESCRIPTION = """\
Run the LightRAG server from a composed configuration.

Precedence, lowest first: YAML (conf/, then the recipe) < config.ini < .env (current
directory) < environment < seed flags < Hydra overrides. Overrides address the config's
own keys: server.port=9622  rag.chunk_token_size=800  storage/vector=nano  llm=openai"""


@dataclass
class LauncherArgs:
    """The parsed command line."""

    overrides: list[str] = field(default_factory=list)
    flags: list[SeedFlag] = field(default_factory=list)
    config_dirs: list[Path] = field(default_factory=list)
    env_file: Path | None = None
    list_recipes: bool = False
    list_backends: bool = False
    print_config: bool = False


def build_parser(epilog: str = "") -> argparse.ArgumentParser:
    """The argparse parser (its epilog lists groups and recipes when given)."""
    parser = argparse.ArgumentParser(
        prog="lightrag-server",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=epilog,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    own = parser.add_argument_group("launcher")
    own.add_argument("--recipe", metavar="NAME", help="same as +recipe=NAME")
    own.add_argument(
        "--config-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="extra config directory (layout of conf/: recipe/, llm/, storage/kv/ ...); "
        "repeatable; also LIGHTRAG_CONFIG_PATH",
    )
    own.add_argument("--env-file", type=Path, metavar="PATH", help="dotenv file (./.env)")
    own.add_argument("--list-recipes", action="store_true", help="list recipes and exit")
    own.add_argument("--list-backends", action="store_true", help="list backends and exit")
    own.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved config (secrets redacted) and exit without starting",
    )
    seed = parser.add_argument_group("seed flags (each stands for its env var)")
    for spec in SEED_FLAGS:
        help_text = f"{spec.help} [{spec.env_name}]"
        if spec.switch:
            seed.add_argument(
                *spec.flags, dest=spec.env_name, action="store_const", const="true", help=help_text
            )
        else:
            seed.add_argument(
                *spec.flags, dest=spec.env_name, metavar=spec.metavar or "VALUE", help=help_text
            )
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str]) -> LauncherArgs:
    """Split ``argv`` into flags and Hydra overrides.

    Raises ``ConfigError`` for an unknown flag or an argument that is not ``key=value``.
    """
    namespace, rest = parser.parse_known_args(list(argv))
    for item in rest:
        if item.startswith("-"):
            raise ConfigError(f"unknown flag {item}; see lightrag-server --help")
        if "=" not in item and not item.startswith("~"):
            raise ConfigError(
                f"{item!r} is neither a flag nor a Hydra override (key=value, +recipe=NAME)"
            )
    overrides = list(rest)
    if namespace.recipe:
        overrides.insert(0, f"+recipe={namespace.recipe}")
    spelled = {spec.env_name: spec.flags[0] for spec in SEED_FLAGS}
    flags = [
        SeedFlag(env_name, value, spelled[env_name])
        for env_name, value in vars(namespace).items()
        if env_name in spelled and value is not None
    ]
    return LauncherArgs(
        overrides=overrides,
        flags=flags,
        config_dirs=list(namespace.config_dir),
        env_file=namespace.env_file,
        list_recipes=namespace.list_recipes,
        list_backends=namespace.list_backends,
        print_config=namespace.print_config,
    )
