# Sourced by the side-by-side scripts: `timed NAME COMMAND…` runs COMMAND under /usr/bin/time -v with
# its stdout in $OUT/NAME.json and prints one line: wall time, peak RSS and the load average.
timed() {
    local name=$1; shift
    /usr/bin/time -v "$@" >"$OUT/$name.json" 2>"$OUT/$name.time" || { echo "$name failed (see $OUT/$name.time)"; return 1; }
    local rss wall
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$OUT/$name.time")
    wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$OUT/$name.time")
    echo "$name: wall $wall, peak RSS ${rss} MB, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
