#!/usr/bin/env bash
# `npm test`: every test, in order of speed of feedback, then one closing line with the total.
#   typecheck -> build -> Electronegativity gate -> renderer (vitest) -> browser e2e (Playwright +
#   Chromium) -> node:test
# Each runner prints its own `N passed, N failed` line; the last line of the run is the sum of all.
set -uo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_OVERRIDE_DIST_PATH="${ELECTRON_OVERRIDE_DIST_PATH:-/nonexistent}"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0

step() { echo; echo "== $1"; }

step "typecheck"
typecheck=ok
npx tsc --noEmit -p tsconfig.json || { status=1; typecheck=FAILED; }

step "build"
npm run --silent build || { echo "build failed: later steps need out/"; exit 1; }

step "Electronegativity gate (sources and the shipped bundles, SARIF against the baseline)"
node --import tsx scripts/electronegativity-gate.ts 2>&1 | tee "$logs/electronegativity.log"; [ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "renderer tests (vitest)"
npx vitest run 2>&1 | tee "$logs/vitest.log"; [ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "browser tests (Playwright, Chromium, harness)"
npx playwright test 2>&1 | tee "$logs/playwright.log"; [ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "main-process, simulator, engine and CLI tests (node:test)"
node --import tsx --test --test-reporter=tap --test-concurrency=2 test/*.test.ts 2>&1 | tee "$logs/node.log"; [ "${PIPESTATUS[0]}" -eq 0 ] || status=1

# The closing total. A runner that printed no summary counts as a failure.
passed=0; failed=0; skipped=0
for runner in electronegativity vitest playwright; do
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logs/$runner.log" | tail -1)
  if [ -z "$line" ]; then echo "$runner printed no summary"; failed=$((failed + 1)); continue; fi
  read -r p _ f _ s _ <<<"${line//,/}"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
np=$(grep -E '^# pass [0-9]+$' "$logs/node.log" | tail -1 | awk '{print $3}')
nf=$(grep -E '^# fail [0-9]+$' "$logs/node.log" | tail -1 | awk '{print $3}')
ns=$(grep -E '^# skipped [0-9]+$' "$logs/node.log" | tail -1 | awk '{print $3}')
if [ -z "$np" ]; then echo "node:test printed no summary"; failed=$((failed + 1)); else passed=$((passed + np)); failed=$((failed + nf)); skipped=$((skipped + ${ns:-0})); fi
[ "$failed" -eq 0 ] || status=1

echo
echo "total of the Electronegativity gate + vitest + playwright + node:test; typecheck: $typecheck"
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
