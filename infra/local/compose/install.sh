#!/usr/bin/env bash
# Install the Docker Compose v2 CLI plugin, built from source, so the test suite can
# check docker-compose.yml with the tool users run (`docker compose config`), on a
# machine whose docker client has no compose plugin and no engine.
#
#   infra/local/compose/install.sh     # once; later runs reuse the cached binary
#
# The module comes from the Go module proxy. `go install .../cmd@VERSION` refuses it
# (its go.mod has exclude directives), so the module is downloaded and built inside a
# writable copy of its folder. The binary is kept in $OPSLEDGER_INFRA_CACHE/bin and
# linked as ~/.docker/cli-plugins/docker-compose (or $DOCKER_CONFIG/cli-plugins).
#
# OPSLEDGER_COMPOSE_VERSION picks the release (default below). Nothing fetched is kept
# in this repository. Progress goes to stderr.
set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

VERSION=${OPSLEDGER_COMPOSE_VERSION:-v2.40.3}
[[ $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "OPSLEDGER_COMPOSE_VERSION must look like v2.40.3, not '$VERSION'"
BIN=$CACHE/bin/docker-compose-$VERSION
PLUGINS=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

if [[ ! -x $BIN ]]; then
    command -v go >/dev/null || die "Go is needed to build the Docker Compose plugin (or install it yourself)"
    mkdir -p "$CACHE/bin" "$LOG_DIR"
    log "Docker Compose $VERSION: building with Go into $BIN (about 2 minutes; log: $LOG_DIR/compose-build.log)"
    T0=$(now)
    work=$(mktemp -d "${TMPDIR:-/tmp}/opsledger-compose-build.XXXXXX")
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
    module="github.com/docker/compose/v2@$VERSION"
    dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module" 2>>"$LOG_DIR/compose-build.log" |
          sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -n $dir && -d $dir ]] || die "could not download $module (see $LOG_DIR/compose-build.log)"
    # The module cache is read-only; build in a writable copy.
    cp -r "$dir" "$work/src"
    chmod -R u+w "$work/src"
    (cd "$work/src" && go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$VERSION" \
        -o "$BIN.tmp" ./cmd) >>"$LOG_DIR/compose-build.log" 2>&1 ||
        die "building Docker Compose failed (see $LOG_DIR/compose-build.log)"
    mv "$BIN.tmp" "$BIN"
    log "Docker Compose $VERSION built in $(( $(now) - T0 )) s"
fi

mkdir -p "$PLUGINS"
ln -sfn "$BIN" "$PLUGINS/docker-compose"
if ! docker compose version >/dev/null 2>&1; then
    die "docker compose does not run after installing $PLUGINS/docker-compose"
fi
log "docker compose: $(docker compose version --short 2>/dev/null || echo "$VERSION") at $PLUGINS/docker-compose"
