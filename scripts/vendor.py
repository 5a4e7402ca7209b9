"""Vendor the front-end libraries from the npm registry into webmap/static/vendor/ at pinned versions.

Run it only to add or upgrade a library (`python scripts/vendor.py`); the files it writes are
committed, so the app needs neither npm nor the internet at run time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "webmap" / "static" / "vendor"
MANIFEST = ROOT / "webmap" / "vendor.json"


def main() -> int:
    manifest = json.loads(MANIFEST.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in manifest.items():
            version = spec["version"]
            out = subprocess.run(
                ["npm", "pack", "--silent", f"{spec.get('npm', name)}@{version}"],
                cwd=tmp, capture_output=True, text=True, check=True,
            )
            tgz = Path(tmp) / out.stdout.strip().splitlines()[-1]
            target = VENDOR / name / version
            shutil.rmtree(target, ignore_errors=True)
            with tarfile.open(tgz) as tar:
                for member in tar.getmembers():
                    rel = member.name.removeprefix("package/")
                    if member.isfile() and any(rel == f or rel.startswith(f.rstrip("/") + "/")
                                               for f in spec["files"]):
                        dest = target / rel
                        for prefix in spec.get("strip_prefixes", []):
                            if rel.startswith(prefix):
                                dest = target / rel.removeprefix(prefix)
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(tar.extractfile(member).read())
            print(f"{name}@{version} → {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
