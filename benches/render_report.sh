#!/usr/bin/env bash
# Renders a cartseq HTML report to a PNG with headless Chromium (Debian package `chromium`), so a person
# can check that it looks right. Usage: benches/render_report.sh [report.html] [out.png]
# Without arguments it first builds the report of the shipped Taobao sample.
set -euo pipefail
cd "$(dirname "$0")/.."
html="${1:-}"
png="${2:-report.png}"
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
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --no-first-run --user-data-dir="$profile" --screenshot="$png" --window-size=1280,4000 \
  "file://$(realpath "$html")" >/dev/null 2>&1
rm -rf "$profile"
echo "wrote $png"
