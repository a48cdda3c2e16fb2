#!/usr/bin/env python3
"""Fails when a package in Cargo.lock asks for a newer Rust than the crate's `rust-version`.

The one MSRV check possible on a machine that has only the current toolchain; clippy's
`incompatible_msrv` lint covers the crate's own use of the standard library.
"""
import json
import pathlib
import subprocess
import sys


def version(text):
    parts = [int(part) for part in text.split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


root_dir = pathlib.Path(__file__).resolve().parent.parent
meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=root_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
root = next(p for p in meta["packages"] if p["id"] in meta["workspace_members"])
msrv = root["rust_version"]
late = [
    "{} {} needs Rust {}".format(p["name"], p["version"], p["rust_version"])
    for p in meta["packages"]
    if p.get("rust_version") and version(p["rust_version"]) > version(msrv)
]
for line in late:
    print(line)
count = len(meta["packages"])
print("{} of {} locked packages need more than Rust {}".format(len(late), count, msrv))
sys.exit(1 if late else 0)
