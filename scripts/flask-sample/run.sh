#!/usr/bin/env bash
# The Flask-shaped sample: a Flask checkout service calling a pricing downstream whose every
# tenth item takes 600 ms, and three patches an AI-SRE might propose (a 150 ms timeout that
# raises, a 5 s timeout, a 150 ms timeout with a fallback price), verified at 20 req/s on this
# machine. Needs python3 with Flask (`pip install flask`) and a built fixproof.
#
#   scripts/flask-sample/run.sh [FIXPROOF] [extra verify flags…]
#
# e.g. `scripts/flask-sample/run.sh target/release/fixproof --sequential off`. Prints the
# verdicts and the wall-clock time of the verification.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixproof="$(realpath "${1:-target/release/fixproof}")"
shift || true
work="$(mktemp -d)"
trap 'kill "$pricing" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port python3 "$here/../../tests/fixtures/python/pricing.py" &
pricing=$!
mkdir "$work/repo"
cp "$here/checkout.py" "$work/repo/checkout.py"
git -C "$work/repo" init -q
git -C "$work/repo" add .
git -C "$work/repo" -c user.name=t -c user.email=t@t commit -qm checkout
call='urllib.request.urlopen(f"{PRICING}/price/{item}")'
patch() { # name, replacement of the call
  python3 - "$work/repo/checkout.py" "$call" "$2" <<'PY'
import sys
path, old, new = sys.argv[1:]
source = open(path).read()
assert old in source
open(path, "w").write(source.replace(old, new))
PY
  git -C "$work/repo" diff > "$work/$1.diff"
  git -C "$work/repo" checkout -q .
}
patch timeout-raise 'urllib.request.urlopen(f"{PRICING}/price/{item}", timeout=0.15)'
patch timeout-5s 'urllib.request.urlopen(f"{PRICING}/price/{item}", timeout=5)'
python3 - "$work/repo/checkout.py" > "$work/fallback.py" <<'PY'
import sys
source = open(sys.argv[1]).read()
old = "        raise PricingError(f\"pricing failed for item {item}: {error}\") from error\n"
assert old in source
print(source.replace(old, "        return 9.99  # the list price, when pricing is slow\n").replace(
    'urllib.request.urlopen(f"{PRICING}/price/{item}")',
    'urllib.request.urlopen(f"{PRICING}/price/{item}", timeout=0.15)'), end="")
PY
cp "$work/fallback.py" "$work/repo/checkout.py"
git -C "$work/repo" diff > "$work/timeout-fallback.diff"
git -C "$work/repo" checkout -q .
cat > "$work/scenario.json" <<JSON
{ "name": "flask-checkout-p99",
  "http": { "timeout": "3s" },
  "load": { "arrival": "constant", "rate": "20/s", "duration": "20s", "warmup": "1s", "seed": 7 },
  "requests": [ { "name": "checkout", "path": "/checkout/{{random_int(1,500)}}" } ],
  "slo": ["p99 < 300ms"] }
JSON
while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.1; done
start=$(date +%s.%N)
set +e
PRICING_URL="http://127.0.0.1:$port" "$fixproof" verify --scenario "$work/scenario.json" \
  --repo "$work/repo" --results-dir "$work/results" --format json \
  --patch "$work/timeout-raise.diff" --patch "$work/timeout-5s.diff" \
  --patch "$work/timeout-fallback.diff" "$@" -- python3 checkout.py > "$work/outcome.json"
code=$?
set -e
end=$(date +%s.%N)
python3 - "$work/outcome.json" <<'PY'
import json, sys
outcome = json.load(open(sys.argv[1]))
for v in outcome["verdicts"]:
    line = f'{v["arms"]["candidate"]["label"]:18} {v["verdict"]:13}'
    s = v.get("sequential")
    if s:
        arms = {a["role"]: a for a in s["arms"]}
        line += f' baseline {arms["baseline"]["requests"]} req, candidate {arms["candidate"]["requests"]} req: {arms["candidate"]["message"]}'
    print(line)
PY
printf 'exit %s, wall clock %.1f s\n' "$code" "$(echo "$end - $start" | bc)"
