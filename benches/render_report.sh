#!/usr/bin/env bash
# Renders a cartseq HTML report to a PNG with headless Chromium (Debian package `chromium`), so a person
# can check that it looks right. Usage: benches/render_report.sh [report.html] [out.png]
# Relative paths are taken from the directory it is run in. Without arguments it first builds the report
# of the shipped Taobao sample. A missing report or an empty screenshot is an error (exit 1), never a
# silent success.
set -euo pipefail
here="$(pwd)"
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$here/$1" ;; esac; }
html="${1:-}"
png="$(absolute "${2:-report.png}")"
if [ -n "$html" ]; then
  html="$(absolute "$html")"
  if [ ! -f "$html" ]; then
    echo "render_report.sh: $html: no such file (write it with cartseq report … -o $1)" >&2
    exit 1
  fi
fi
cd "$(dirname "$0")/.."
if [ -z "$html" ]; then
  html="$(mktemp -d)/report.html"
  cargo run --release --quiet -- report data/samples/taobao_sample.csv --preset taobao --task purchase \
    --pattern-features 10 --pattern-tokens action -o "$html"
fi
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 1
fi
profile="$(mktemp -d)"
rm -f "$png"
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --no-first-run --user-data-dir="$profile" --screenshot="$png" --window-size=1280,4000 \
  "file://$html" >/dev/null 2>&1 || true
rm -rf "$profile"
if [ ! -s "$png" ]; then
  echo "render_report.sh: chromium wrote no screenshot to $png" >&2
  exit 1
fi
echo "wrote $png"
