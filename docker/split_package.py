"""Move lightrag-server's own installed files out of the virtualenv into a separate tree.

docker/Dockerfile copies the virtualenv (the dependencies: hundreds of MB, unchanged by a
code change) and this tree (the package: a few MB) into the runtime image as two layers,
so a code change rebuilds and ships only the small one. The files are those listed in the
wheel's RECORD (modules, their .pyc, the console script, the dist-info).

Usage: python split_package.py VENV TARGET
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

venv, target = Path(sys.argv[1]), Path(sys.argv[2])
(site,) = venv.glob("lib/python3*/site-packages")
(dist_info,) = site.glob("lightrag_server-*.dist-info")
with (dist_info / "RECORD").open(newline="", encoding="utf-8") as fh:
    paths = [row[0] for row in csv.reader(fh) if row]
moved = 0
for relative in paths:
    source = (site / relative).resolve()
    if not source.is_file():
        continue
    destination = target / source.relative_to(venv.resolve())
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, destination)
    moved += 1
for directory in sorted(site.glob("lightrag/**/"), key=lambda p: len(p.parts), reverse=True):
    directory.rmdir()  # empty now; anything left behind would be a bug: fail loudly
if dist_info.exists():
    dist_info.rmdir()
print(f"split_package: moved {moved} files of lightrag-server into {target}")
