#!/usr/bin/env bash
# Mutation testing of the decision modules with mutmut (pinned in the `dev` extra).
#
#   scripts/mutate.sh                     # strategies, health, quota, availability, planning, call
#   scripts/mutate.sh strategies quota    # only these modules
#
# Runs in a throwaway copy of the committed tree (git archive HEAD), never in the working tree:
# mutmut writes a mutants/ directory and others edit this checkout at the same time. The tests are
# the fast subset set in pyproject's [tool.mutmut] (tests/core + tests/glue + tests/routing, ~40 s once; mutmut
# then runs only the tests that reach each mutated function). Per module it prints the time taken
# and the surviving mutants with their diffs, into $OUT (default bench/results/mutation-run.txt,
# untracked). Bounded: each module's run is cut at MUTATE_TIMEOUT seconds (default 1200).
# Needs: .venv with the dev extra (`.venv/bin/pip install -e '.[dev]'`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin"
MODULES=("$@")
[ ${#MODULES[@]} -eq 0 ] && MODULES=(strategies health quota availability planning call)
OUT=${OUT:-$ROOT/bench/results/mutation-run.txt}
LIMIT=${MUTATE_TIMEOUT:-1200}
CHILDREN=${MUTATE_CHILDREN:-2}

WORK=$(mktemp -d /tmp/llmswitch-mutate.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
git -C "$ROOT" archive HEAD | tar -x -C "$WORK"
cd "$WORK"

mkdir -p "$(dirname "$OUT")"
{
    echo "# mutmut $("$PY/mutmut" --version | awk '{print $NF}') on $(git -C "$ROOT" rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "# modules: ${MODULES[*]}; children: $CHILDREN; per-module limit: ${LIMIT}s"
} >"$OUT"

for module in "${MODULES[@]}"; do
    start=$(date +%s)
    status=0
    # Mutant names are module paths: llmswitch._<module>.x_<function>__mutmut_<n>.
    timeout "$LIMIT" "$PY/mutmut" run --max-children "$CHILDREN" "llmswitch._$module.*" \
        >"$WORK/run-$module.log" 2>&1 || status=$?
    took=$(($(date +%s) - start))
    results=$("$PY/mutmut" results --all true 2>/dev/null | grep "^ *llmswitch\._$module\." || true)
    counts=$(echo "$results" | awk -F': ' 'NF > 1 {n[$NF]++} END {for (k in n) printf "%s %d, ", k, n[k]}')
    {
        echo
        echo "## $module: ${took}s (mutmut exit $status$([ $status -eq 124 ] && echo ', cut at the limit')): ${counts%, }"
        for name in $(echo "$results" | awk -F': ' 'NF > 1 && $NF != "killed" && $NF != "not checked" {print $1}'); do
            diff=$("$PY/mutmut" show "$name" 2>/dev/null | grep '^[-+][^-+]' || true)
            old=$(echo "$diff" | grep '^-' | head -n 1 | sed 's/^-[[:space:]]*//')
            line=$([ -n "$old" ] && grep -nF -- "$old" "src/llmswitch/_$module.py" | head -n 1 | cut -d: -f1 || true)
            echo "### $name ($(echo "$results" | grep -F "$name:" | awk -F': ' '{print $NF}'))" \
                "src/llmswitch/_$module.py:${line:-?}"
            echo "$diff"
        done
    } >>"$OUT"
    echo "$module: ${took}s, ${counts%, }"
done
echo "details: $OUT"
