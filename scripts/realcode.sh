#!/usr/bin/env bash
# realcode.sh SRC WORK: measures `migrate convert` on a Temporal Go module
# nobody here wrote (for example a copy of temporalio/samples-go).
#
# It copies SRC to WORK/orig and WORK/conv, builds, vets and tests every
# package of the original, converts the copy with `migrate convert -w ./...`
# (the toolkit is taken from this checkout through a replace directive),
# builds, vets and tests the converted packages, and writes WORK/table.md: one
# row per top-level folder (sample) with the number of packages that build,
# vet and pass their tests before and after, and the TODO(migrate) count.
set -euo pipefail
src=$(cd "$1" && pwd); work=$2
toolkit=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"; work=$(cd "$work" && pwd)
module=$(cd "$src" && go list -m)

ms_since() { # start (date +%s%N): milliseconds elapsed
  local now; now=$(date +%s%N)
  echo $(( (now - $1) / 1000000 ))
}

measure() { # dir label
  local dir=$1 out=$work/$2
  mkdir -p "$out"
  (cd "$dir" && go list -e -f '{{.ImportPath}}' ./... > "$out/pkgs" 2>/dev/null || true)
  (cd "$dir" && go build ./... > "$out/build.log" 2>&1 || true)
  local t0=$(date +%s%N)
  (cd "$dir" && go vet ./... > "$out/vet.log" 2>&1 || true)
  ms_since "$t0" > "$out/vet.ms"
  (cd "$dir" && go test -count=1 -timeout 120s ./... > "$out/test.log" 2>&1 || true)
  # A package fails build/vet when the go command prints "# pkg" (or "# pkg [pkg.test]") for it.
  grep '^# ' "$out/build.log" | sed 's/^# //; s/ .*//' | sort -u > "$out/build.fail" || true
  grep '^# ' "$out/vet.log" | sed 's/^# //; s/ .*//' | sort -u > "$out/vet.fail" || true
  grep -E '^(FAIL|ok )' "$out/test.log" | awk '{print $1, $2}' | sort -u > "$out/test.status" || true
}

# REALCODE_SKIP_BEFORE=1 keeps the previous "before" measurement (the
# original does not change between runs).
if [ "${REALCODE_SKIP_BEFORE:-}" != 1 ] || [ ! -d "$work/before" ]; then
  rm -rf "$work/orig"
  cp -r "$src" "$work/orig"
  measure "$work/orig" before
fi
rm -rf "$work/conv"

cp -r "$src" "$work/conv"
(cd "$work/conv" && go mod edit -replace "github.com/durablego/toolkit=$toolkit" && go mod edit -require "github.com/durablego/toolkit@v0.0.0")
(cd "$toolkit" && go build -o "$work/migrate" ./cmd/migrate)
# Convert a fresh copy, as vet ran on one: the go command's caches hold the
# dependencies for both, and neither has results for these packages yet.
start=$(date +%s%N)
(cd "$work/conv" && "$work/migrate" convert -w --json ./... > "$work/convert.json" 2> "$work/convert.err"; echo $? > "$work/convert.rc") || true
ms_since "$start" > "$work/convert.ms"
echo "convert: exit $(cat "$work/convert.rc") in $(cat "$work/convert.ms") ms; go vet of the original: $(cat "$work/before/vet.ms" 2>/dev/null) ms"
(cd "$work/conv" && go mod tidy -e > "$work/tidy.log" 2>&1 || true)
measure "$work/conv" after

# REALCODE_HARD names a file of samples with no durable counterpart
# (scripts/samples-go.hard for temporalio/samples-go).
(cd "$toolkit" && go run ./scripts/realcodetable "$work" "$module" ${REALCODE_HARD:+"$REALCODE_HARD"}) > "$work/table.md"
grep '\*\*total' "$work/table.md"
