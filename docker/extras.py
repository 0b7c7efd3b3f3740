"""Print the requirements of lightrag-server's core and chosen extras, one per line.

Used by docker/Dockerfile to install the dependencies in a layer of their own (from
pyproject.toml alone), so that a code change rebuilds only the small wheel layer.
Self-references such as ``lightrag-server[postgres,redis]`` are expanded; the extra
``all`` stands for every extra the project declares (parsing, embedded and every
database client), not only pyproject's own ``all`` (parsing + embedded).

Usage: python extras.py PYPROJECT EXTRAS     (EXTRAS: comma-separated, may be empty)
"""

from __future__ import annotations

import re
import sys
import tomllib

SELF = re.compile(r"^lightrag-server\[(?P<extras>[^\]]*)\]\s*$")
NOT_PRODUCT = {"test", "test-backends"}  # test tooling never goes into the image


def requirements(pyproject: dict, extras: list[str]) -> list[str]:
    """The core requirements plus those of ``extras`` (expanded), in a stable order."""
    project = pyproject["project"]
    declared: dict[str, list[str]] = project.get("optional-dependencies", {})
    wanted = list(extras)
    if "all" in wanted:
        wanted = [name for name in declared if name not in NOT_PRODUCT]
    out: list[str] = list(project["dependencies"])
    seen: set[str] = set()
    while wanted:
        name = wanted.pop(0).strip()
        if not name or name in seen:
            continue
        if name not in declared:
            known = ", ".join(sorted(declared))
            raise SystemExit(f"unknown extra {name!r}; the project declares: {known}")
        seen.add(name)
        for req in declared[name]:
            match = SELF.match(req)
            if match:
                wanted.extend(match["extras"].split(","))
            elif req not in out:
                out.append(req)
    return out


def main() -> None:
    with open(sys.argv[1], "rb") as fh:
        pyproject = tomllib.load(fh)
    extras = sys.argv[2].split(",") if len(sys.argv) > 2 else []
    print("\n".join(requirements(pyproject, extras)))


if __name__ == "__main__":
    main()
