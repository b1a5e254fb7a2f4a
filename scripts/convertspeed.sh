#!/usr/bin/env bash
# convertspeed.sh SRC [ROUNDS]: times `go vet ./...` against
# `migrate convert -l ./...` on a Go module neither has seen, in alternating
# rounds. Each round works on a fresh copy of SRC whose every Go file gets a
# new comment, so the build and vet caches hold nothing for its packages
# (its module dependencies stay cached for both commands).
set -euo pipefail
src=$(cd "$1" && pwd); rounds=${2:-3}
toolkit=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$toolkit" && go build -o "$tmp/migrate" ./cmd/migrate)
for i in $(seq 1 "$rounds"); do
  for cmd in vet convert; do
    d=$tmp/copy; rm -rf "$d"; cp -r "$src" "$d"
    (cd "$d" && go mod edit -replace "github.com/durablego/toolkit=$toolkit" -require "github.com/durablego/toolkit@v0.0.0")
    nonce=$RANDOM$RANDOM
    find "$d" -name '*.go' -exec sh -c 'printf "\n// %s\n" "$0" >> "$1"' "$nonce" {} \;
    start=$(date +%s%N)
    if [ "$cmd" = vet ]; then (cd "$d" && go vet ./... >/dev/null 2>&1 || true)
    else (cd "$d" && "$tmp/migrate" convert -l ./... >/dev/null 2>&1 || true); fi
    echo "round $i: $cmd $(( ($(date +%s%N) - start) / 1000000 )) ms"
  done
done
