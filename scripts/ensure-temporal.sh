#!/usr/bin/env bash
# Prints the path of a temporal CLI at v1.5.1: one on PATH at that version, else one built into
# a cache outside the repository with `go install` (once; later runs and CI reuse it).
set -euo pipefail
version=v1.5.1
cache="${SWITCHBOARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}/temporal-$version"

if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -x "$TEMPORAL_CLI_PATH" ]; then echo "$TEMPORAL_CLI_PATH"; exit 0; fi
if command -v temporal >/dev/null 2>&1 && temporal --version 2>/dev/null | grep -q "${version#v}"; then
  command -v temporal; exit 0
fi
if [ -x "$cache/temporal" ]; then echo "$cache/temporal"; exit 0; fi

go_bin=$(command -v go || true)
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
if [ -z "$go_bin" ]; then
  cat >&2 <<MSG
No temporal CLI $version found. Either:
  - put the temporal CLI $version on PATH (or set TEMPORAL_CLI_PATH to it), or
  - install Go (https://go.dev/dl) and run this script again: it builds the CLI with
    go install github.com/temporalio/cli/cmd/temporal@$version  into $cache
MSG
  exit 1
fi
echo "Building temporal CLI $version with go install (first run only, a few minutes)…" >&2
mkdir -p "$cache"
if ! GOBIN="$cache" "$go_bin" install "github.com/temporalio/cli/cmd/temporal@$version" >&2; then
  echo "go install of the temporal CLI failed; put temporal $version on PATH or set TEMPORAL_CLI_PATH." >&2
  exit 1
fi
echo "$cache/temporal"
