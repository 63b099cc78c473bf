"""A text file right at the 50 MB limit, on one line: time and peak memory to clean and chunk it.

The test suite checks the same path on a fifth of the limit (``tests/test_hardening_files.py``); this prints the
figures at the limit itself, in a fresh interpreter so the peak RSS is the preparation's own.

Usage: python benchmarks/bench_large_file.py [--megabytes 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import loaders  # noqa: E402
from tests.test_hardening_files import PREPARE_SCRIPT, one_line_txt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=loaders.MAX_TEXT_BYTES / 2**20)
    size = int(parser.parse_args().megabytes * 2**20)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ligne.txt"
        path.write_bytes(one_line_txt(size))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-c", PREPARE_SCRIPT, str(path)], capture_output=True, env=env,
                              text=True, check=True)  # fmt: skip
    result = json.loads(proc.stdout)
    print(f"{size / 2**20:.0f} MB on one line: {result['chunks']} chunks in {result['seconds']:.1f} s, "
          f"longest {result['max_chars']} characters, peak RSS {result['rss_mb']:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
