#!/usr/bin/env bash
# Build OpsLedger's FerretDB v1 launcher into $1, with one upstream bug fixed and
# one hard-coded setting raised.
#
# 1. The fix: FerretDB v1.24.2's SQLite backend creates the unique `_id` index on the
# expression `_ferretdb_sjson->"_id"` but filters by `_ferretdb_sjson->'$._id'`.
# Both extract the same value, yet SQLite only uses an expression index whose text
# matches, so every find, update and delete by `_id` scans the whole collection:
# 52 ms per find_one at 20,000 documents, 7 replacements/s (measured here). The
# PostgreSQL backend of the same release filters by `->'_id'`, matching its index;
# so does the patched SQLite backend. Nothing else changes: same server, same
# on-disk format, same answers. `EXPLAIN QUERY PLAN` on a collection shows
# `SEARCH ... USING INDEX <table>__id_` after the fix, `SCAN <table>` before.
#
# 2. The setting: FerretDB's embeddable package (what our launcher runs) hard-codes
# `BatchSize: 100`, so an insert of 1,000 documents becomes ten SQLite transactions of
# 100 rows each. The release binary's default is also 100 (`--test-batch-size`, a
# testing flag the embeddable package does not expose). 1,000 rows per transaction:
# ~1.2-1.5x the documents/s on bulk inserts (measured with the projector benchmark's
# documents). The cost: an insert that meets a duplicate `_id` falls back to one
# document per transaction for its whole batch of up to 1,000 rather than 100.
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
# replace FILE OLD NEW: change the one line holding OLD, or fail loudly.
replace() {
    local target=$1 old=$2 new=$3
    [[ $(grep -cF "$old" "$target") == 1 ]] || {
        echo "build.sh: '$old' is not in $target exactly once; has FerretDB changed?" >&2
        exit 1
    }
    sed -i "s|$(printf '%s' "$old" | sed 's/[$.*[\\^]/\\&/g')|$new|" "$target"
    grep -qF "$new" "$target" || { echo "build.sh: the change to $target did not apply" >&2; exit 1; }
    echo "build.sh: patched $target ($new)"
}

if [[ ${OPSLEDGER_FERRETDB_UNPATCHED:-} == 1 ]]; then
    echo "build.sh: building stock FerretDB (OPSLEDGER_FERRETDB_UNPATCHED=1)"
else
    replace "$target" "$broken" "$fixed"
    replace vendor/github.com/FerretDB/FerretDB/ferretdb/ferretdb.go \
        "BatchSize:               100," "BatchSize:               1000,"
fi

go build -mod=vendor -buildvcs=false -trimpath -o "$out" .
