"""Paths shared by the tests: the repository's samples and ../shared (absent: tests that need it skip,
except under CI=true, where its absence is a failure, as in the Rust suites)."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
SHARED = REPO.parent / "shared"


def need_shared(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{p} is missing (CI=true needs ../shared)")
        pytest.skip(f"{p} is absent")
    return p


def _supported_lines(path: Path):
    """(body, support) of every SPMF output line `... #SUP: n` of a file."""
    for line in path.read_text().splitlines():
        if "#SUP:" in line:
            body, sup = line.split("#SUP:")
            yield body, int(sup)


def spmf_patterns(path: Path) -> dict:
    """SPMF pattern lines `1 -1 2 3 -1 #SUP: 5` -> {((1,), (2, 3)): 5}."""
    out = {}
    for body, sup in _supported_lines(path):
        sets, cur = [], []
        for tok in body.split():
            if tok == "-1":
                sets.append(tuple(sorted(cur)))
                cur = []
            elif tok != "-2":
                cur.append(int(tok))
        if cur:
            sets.append(tuple(sorted(cur)))
        out[tuple(sets)] = sup
    return out


def spmf_itemsets(path: Path) -> dict:
    return {tuple(sorted(int(t) for t in body.split())): sup for body, sup in _supported_lines(path)}
