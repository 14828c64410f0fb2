#!/usr/bin/env bash
# Build OpsLedger's FerretDB v1 launcher into $1, with one upstream bug fixed.
#
# The fix: FerretDB v1.24.2's SQLite backend creates the unique `_id` index on the
# expression `_ferretdb_sjson->"_id"` but filters by `_ferretdb_sjson->'$._id'`.
# Both extract the same value, yet SQLite only uses an expression index whose text
# matches, so every find, update and delete by `_id` scans the whole collection:
# 52 ms per find_one at 20,000 documents, 7 replacements/s (measured here). The
# PostgreSQL backend of the same release filters by `->'_id'`, matching its index;
# so does the patched SQLite backend. Nothing else changes: same server, same
# on-disk format, same answers. `EXPLAIN QUERY PLAN` on a collection shows
# `SEARCH ... USING INDEX <table>__id_` after the fix, `SCAN <table>` before.
#
# The source is FerretDB's own module from the Go module proxy, vendored into a
# scratch folder under the cache and patched there; nothing fetched is kept in
# this repository. Set OPSLEDGER_FERRETDB_UNPATCHED=1 to build the stock server.
set -euo pipefail

out=${1:?usage: build.sh OUTPUT_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/opsledger-ferretdb-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

cp "$here/go.mod" "$here/go.sum" "$here/main.go" "$work/"
cd "$work"
go mod vendor

target=vendor/github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata/metadata.go
broken="IDColumn = DefaultColumn + \"->'\$._id'\""
fixed="IDColumn = DefaultColumn + \"->'_id'\""
if [[ ${OPSLEDGER_FERRETDB_UNPATCHED:-} == 1 ]]; then
    echo "build.sh: building stock FerretDB (OPSLEDGER_FERRETDB_UNPATCHED=1)"
else
    grep -qF "$broken" "$target" || {
        echo "build.sh: the line to fix is not in $target; has FerretDB changed?" >&2
        exit 1
    }
    sed -i "s|$(printf '%s' "$broken" | sed 's/[$.*[\\^]/\\&/g')|$fixed|" "$target"
    grep -qF "$fixed" "$target" || { echo "build.sh: the fix did not apply" >&2; exit 1; }
    echo "build.sh: patched $target ($fixed)"
fi

go build -mod=vendor -buildvcs=false -trimpath -o "$out" .
