#!/usr/bin/env bash
# Measures fixproof's driver against wrk, oha and h2load on one nginx on 127.0.0.1, in the
# same run, alternating tools, nginx pinned to CPU 0 and the tool to CPU 1.
#
#   benches/peers.sh [REPS] [SECONDS]      (defaults: 5 repetitions of 10 s)
#
# Installs what is missing (nginx, wrk, h2load from Debian; oha with cargo). Prints, per mode,
# the median requests/s, CPU seconds per 100k requests (user + system of the tool's process,
# from the waiting shell's child times) and p50 latency (h2load reports only the mean), with
# each peer's ratio to fixproof.
set -euo pipefail
REPS=${1:-5}
SECS=${2:-10}
CONNS=64
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'kill $(cat "$WORK/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk || ! need h2load; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk nghttp2-client >/dev/null
fi
need oha || cargo install oha --locked --quiet
(cd "$ROOT" && cargo build --release --quiet)
FIXPROOF="$ROOT/target/release/fixproof"

PORT=$((20000 + RANDOM % 20000))
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$PORT;
    location / { return 200 "ok\n"; }
  }
}
CONF
taskset -c 0 nginx -c "$WORK/nginx.conf"
sleep 0.5
URL="http://127.0.0.1:$PORT/"

# Runs "$@" pinned to CPU 1; prints "<cpu seconds> <stdout file>".
measure() {
  local out="$WORK/out.$RANDOM"
  local before after
  # This function runs in a subshell, which waits for the tool: its children's times
  # (cutime, cstime) are the tool's. Read them outside any command substitution.
  local me=$BASHPID
  before=$(cut -d' ' -f14-17 "/proc/$me/stat")
  taskset -c 1 "$@" >"$out" 2>"$out.err" || true
  after=$(cut -d' ' -f14-17 "/proc/$me/stat")
  # utime+stime of waited-for children (fields 16, 17), in clock ticks.
  local tck; tck=$(getconf CLK_TCK)
  local b=(${before}) a=(${after})
  echo "$(( (a[2] + a[3]) - (b[2] + b[3]) )) $tck $out"
}

# wrk and h2load print durations with a unit ("227.00us", "1.02ms", "1.5s"): in ms.
to_ms() {
  awk '{v=$1+0; if ($1 ~ /us$/) v/=1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v*=1000; printf "%.3f\n", v}'
}

# Extracts "<requests> <p50 ms>" from each tool's output.
parse() {
  local tool=$1 file=$2
  case $tool in
    fixproof) jq -r '"\(.counts.sent) \(.latency.p50_us / 1000)"' "$file" ;;
    wrk) echo "$(awk '/requests in/ {print $1}' "$file") $(awk '/50%/ {print $2}' "$file" | to_ms)" ;;
    oha) jq -r '"\([.statusCodeDistribution[]] | add) \(.latencyPercentiles.p50 * 1000 * 1000 | round / 1000)"' "$file" ;;
    h2load) echo "$(awk '/^requests:/ {print $8}' "$file") $(awk '/time for request:/ {print $6}' "$file" | to_ms)" ;;
  esac
}

run_tool() {
  local mode=$1 tool=$2 rate=$3
  case "$tool:$mode" in
    fixproof:max) measure "$FIXPROOF" load --url "$URL" --rate max --connections $CONNS --threads 1 --duration ${SECS}s --json --out "$WORK/a.json" ;;
    fixproof:fixed) measure "$FIXPROOF" load --url "$URL" --rate "$rate/s" --max-in-flight $CONNS --threads 1 --duration ${SECS}s --json --out "$WORK/a.json" ;;
    wrk:max) measure wrk -t1 -c$CONNS -d${SECS}s --latency "$URL" ;;
    oha:max) measure oha --no-tui --output-format json -z ${SECS}s -c $CONNS "$URL" ;;
    oha:fixed) measure oha --no-tui --output-format json -z ${SECS}s -c $CONNS -q "$rate" --latency-correction "$URL" ;;
    h2load:fixed) measure h2load --h1 -D $SECS -c $CONNS --rps $(( rate / CONNS )) "$URL" ;;
  esac
}

need jq || { apt-get install -y -qq jq >/dev/null; }
declare -A RPS CPU P50
for mode in max fixed:5000 fixed:20000; do
  kind=${mode%%:*}; rate=${mode#*:}
  tools="fixproof wrk oha"; [ "$kind" = fixed ] && tools="fixproof oha h2load"
  for rep in $(seq "$REPS"); do
    for tool in $tools; do
      read -r ticks tck file < <(run_tool "$kind" "$tool" "$rate")
      read -r n p50 < <(parse "$tool" "$file")
      key="$mode:$tool"
      RPS[$key]+="$(awk -v n="$n" -v s="$SECS" 'BEGIN {printf "%.0f", n / s}') "
      CPU[$key]+="$(awk -v t="$ticks" -v k="$tck" -v n="$n" 'BEGIN {printf "%.3f", (t / k) / n * 100000}') "
      P50[$key]+="${p50:-nan} "
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
# Ratios are the peer's median over fixproof's in the same mode (CPU above 1: fixproof is
# cheaper; req/s below 1: fixproof is faster).
printf '%-14s %-9s %10s %8s %16s %8s %8s\n' mode tool "req/s" "÷ fp" "CPU-s per 100k" "÷ fp" "p50 ms"
for key in $(printf '%s\n' "${!RPS[@]}" | sort); do
  mode=${key%:*}
  rps=$(echo "${RPS[$key]}" | median); cpu=$(echo "${CPU[$key]}" | median)
  fp_rps=$(echo "${RPS[$mode:fixproof]}" | median); fp_cpu=$(echo "${CPU[$mode:fixproof]}" | median)
  printf '%-14s %-9s %10s %8s %16s %8s %8s\n' "$mode" "${key##*:}" "$rps" "$(ratio "$rps" "$fp_rps")" \
    "$cpu" "$(ratio "$cpu" "$fp_cpu")" "$(echo "${P50[$key]}" | median)"
done
