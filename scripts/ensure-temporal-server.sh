#!/usr/bin/env bash
# Prints two lines: the path of a Temporal server v1.29.1 and of its sql tool (temporal-sql-tool),
# then the schema directory of the server module (postgresql/v12 lives under it). Builds both with
# `go install` into the cache the temporal CLI uses (once; later runs and CI reuse them). The
# schemas are read from Go's module cache, where go install put the module's source: nothing is
# copied into the repository.
set -euo pipefail
version=v1.29.1
cache="${SWITCHBOARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}/temporal-server-$version"
module=go.temporal.io/server

go_bin=$(command -v go || true)
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go

missing() {
  cat >&2 <<MSG
$1
Switchboard's cluster mode needs the Temporal server $version and its sql tool, built with Go:
  - install Go (https://go.dev/dl) and run this script again: it runs
      go install $module/cmd/server@$version
      go install $module/cmd/tools/sql@$version
    with GOBIN=$cache (a few minutes, first run only).
MSG
  exit 1
}

if [ ! -x "$cache/server" ] || [ ! -x "$cache/sql" ]; then
  [ -z "$go_bin" ] && missing "No Temporal server $version in $cache, and no Go on PATH or in /usr/local/go/bin."
  echo "Building Temporal server $version and its sql tool with go install (first run only, a few minutes)…" >&2
  mkdir -p "$cache"
  for cmd in cmd/server cmd/tools/sql; do
    GOBIN="$cache" "$go_bin" install "$module/$cmd@$version" >&2 || missing "go install $module/$cmd@$version failed (see above)."
  done
fi

[ -z "$go_bin" ] && missing "No Go found: the server's schema files are read from Go's module cache."
schema="$("$go_bin" env GOMODCACHE)/$module@$version/schema"
if [ ! -d "$schema/postgresql/v12/temporal/versioned" ]; then
  # The binaries are cached but the module source is not (a cleaned module cache): fetch it.
  (cd "$(mktemp -d)" && "$go_bin" mod download -x "$module@$version" >&2) || missing "go mod download $module@$version failed."
fi
[ -d "$schema/postgresql/v12/temporal/versioned" ] || missing "No PostgreSQL v12 schema under $schema."
echo "$cache/server"
echo "$cache/sql"
echo "$schema"
