"""``lightrag-server``: compose the configuration, validate it once, run the server.

    lightrag-server [+recipe=NAME] [hydra overrides ...] [seed flags ...]

See ``lightrag-server --help``; the config layer is ``lightrag.config``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from lightrag.config.backends import check_backend_classes
from lightrag.config.cli_flags import build_parser, parse_args
from lightrag.config.errors import ConfigError
from lightrag.config.listing import help_epilog, list_backends, list_recipes
from lightrag.config.loader import (
    ConfigRequest,
    build_layers,
    config_tree,
    load_config,
    process_environment,
)
from lightrag.config.render import render_config
from lightrag.config.search_path import ConfigTree
from lightrag.config.server_checks import REFUSAL_EXIT_STATUS, StartupRefusal

__all__ = ["main"]


def _tree_for_help(argv: Sequence[str], environ: dict[str, str], cwd: Path) -> ConfigTree:
    """The search path as the command line will set it, read before ``--help`` exits."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--config-dir", action="append", type=Path, default=[])
    pre.add_argument("--env-file", type=Path)
    known, _ = pre.parse_known_args(list(argv))
    request = ConfigRequest(
        environ=environ, cwd=cwd, env_file=known.env_file, config_dirs=known.config_dir
    )
    return config_tree(request, build_layers(request))


def run(argv: Sequence[str], environ: dict[str, str], cwd: Path, out: TextIO) -> int:
    """The launcher's work for ``argv``; returns the exit status (raises ``ConfigError``)."""
    parser = build_parser(help_epilog(_tree_for_help(argv, environ, cwd)))
    args = parse_args(parser, argv)
    request = ConfigRequest(
        overrides=args.overrides,
        flags=args.flags,
        environ=environ,
        cwd=cwd,
        env_file=args.env_file,
        config_dirs=args.config_dirs,
    )
    if args.list_recipes or args.list_backends:
        tree = config_tree(request, build_layers(request))
        text = list_recipes(tree) if args.list_recipes else list_backends(tree)
        print(text, file=out)
        return 0
    # Serving: the server settings are checked before the backends are imported (spaCy,
    # ONNX, database drivers), so a refusal the operator can fix arrives at once.
    serving = not args.print_config
    loaded = load_config(
        dataclasses.replace(request, check_classes=not serving, check_server=serving)
    )
    for note in loaded.notes:
        print(f"lightrag-server: warning: {note}", file=sys.stderr)
    if args.print_config:
        print(render_config(loaded.config, loaded.choices), end="", file=out)
        return 0
    check_backend_classes(loaded.config)
    logging.basicConfig(
        level=loaded.config.server.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from lightrag.server.run import serve  # the server stack loads only to serve

    serve(loaded.config, recipe=loaded.choices.get("recipe"))
    return 0


def _refusal_line(exc: StartupRefusal) -> str:
    text = " ".join(str(exc).split())  # one line, whatever the message held
    return text if text.startswith("cannot start: ") else f"cannot start: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: exit status 0 on success, 2 when the configuration cannot be
    composed (an unknown key, a bad value, a missing extra), 3 when the server refuses
    to start (``StartupRefusal``: one line on stderr saying what, where and the fix)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        return run(arguments, process_environment(), Path.cwd(), sys.stdout)
    except StartupRefusal as exc:
        print(f"lightrag-server: error: {_refusal_line(exc)}", file=sys.stderr)
        return REFUSAL_EXIT_STATUS
    except (ConfigError, ValueError) as exc:
        print(f"lightrag-server: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
