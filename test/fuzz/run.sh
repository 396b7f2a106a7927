#!/usr/bin/env bash
# Long fuzz runs: every property spec (the *.spec.ts files that take their run count from
# test/fuzz/fuzz-params.ts) with many runs per property. CI runs the same specs bounded.
#
#   npm run fuzz                         20,000 runs per property, a fresh seed
#   npm run fuzz -- --runs 2000          fewer runs
#   npm run fuzz -- --seed S [--path P]  replay a failure (the seed/path printed below)
#   npm run fuzz -- <jest args>          e.g. a spec file or -t 'test name' to narrow the run
#
# Exits non-zero on any failure, printing each failing property's seed and path.
set -uo pipefail
cd "$(dirname "$0")/../.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
runs=20000
seed=""
path=""
jest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --seed) seed="${2:-}"; shift 2 ;;
    --seed=*) seed="${1#*=}"; shift ;;
    --path) path="${2:-}"; shift 2 ;;
    --path=*) path="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) jest_args+=("$1"); shift ;;
  esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]{0,8}$ ]]; then
  echo "fuzz: --runs must be a positive integer (got '$runs')" >&2
  exit 2
fi
if [ -n "$seed" ] && ! [[ "$seed" =~ ^-?[0-9]{1,10}$ ]]; then
  echo "fuzz: --seed must be an integer, as fast-check printed it (got '$seed')" >&2
  exit 2
fi
if [ -n "$path" ] && [ -z "$seed" ]; then
  echo "fuzz: --path replays only together with the --seed it was printed with" >&2
  exit 2
fi

mapfile -t specs < <(grep -rlE --include='*.spec.ts' "from '(\.\./)+test/fuzz/fuzz-params\.js'" cli lib hub agent proto test | sort)
if [ ${#specs[@]} -eq 0 ]; then
  echo "fuzz: no property spec imports test/fuzz/fuzz-params.ts" >&2
  exit 2
fi

# a spec file among the jest arguments narrows the run to it
for a in "${jest_args[@]}"; do
  if [[ "$a" == *.spec.ts && -f "$a" ]]; then specs=(); break; fi
done

export GITFLEET_FUZZ_RUNS="$runs"
[ -n "$seed" ] && export GITFLEET_FUZZ_SEED="$seed"
[ -n "$path" ] && export GITFLEET_FUZZ_PATH="$path"
what="${#specs[@]} property specs"
[ ${#specs[@]} -eq 0 ] && what="the given specs"
echo "fuzz: $what, $runs runs per property${seed:+, seed $seed}${path:+, path $path}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# one worker: the long run shares the machine; no per-test timeout (a property may run for minutes)
node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit --runTestsByPath \
  --maxWorkers=1 --testTimeout=86400000 "${specs[@]}" "${jest_args[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if [ "$status" -ne 0 ]; then
  # fast-check reports "{ seed: S, path: "P", endOnFailure: true }" for each failing property
  failures="$(grep -oE '\{ seed: -?[0-9]+, path: "[^"]*"' "$log" | sort -u)"
  echo
  echo "fuzz: FAILED (jest exit $status)"
  if [ -n "$failures" ]; then
    while IFS= read -r f; do
      s="$(sed -E 's/.*seed: (-?[0-9]+).*/\1/' <<<"$f")"
      p="$(sed -E 's/.*path: "([^"]*)".*/\1/' <<<"$f")"
      echo "  replay: npm run fuzz -- --runs $runs --seed $s --path '$p' <spec file> -t '<test name>'"
    done <<<"$failures"
  else
    echo "  no fast-check seed in the output: the failure is not a property's (see above)"
  fi
fi
exit "$status"
