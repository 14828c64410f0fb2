#!/usr/bin/env bash
# Run one command with the real local Kafka + FerretDB up, then stop them again,
# also when the command fails or is interrupted; exits with the command's status.
#
#   infra/local/with-infra.sh .venv/bin/python -m pytest
#
# The command sees OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI (and where
# the servers keep their files: OPSLEDGER_INFRA_{KAFKA,FERRETDB}_DATA_DIR).
# OPSLEDGER_INFRA_KEEP_RUNNING=1 leaves the servers up afterwards (stop them
# with infra/local/down.sh). All other OPSLEDGER_* settings: see up.sh / README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if (($# == 0)); then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

stop_infra() {
    if [[ ${OPSLEDGER_INFRA_KEEP_RUNNING:-0} == 1 ]]; then
        echo "[opsledger-infra] leaving Kafka and FerretDB running (OPSLEDGER_INFRA_KEEP_RUNNING=1)" >&2
    else
        "$here/down.sh" || true
    fi
}
trap stop_infra EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

env_lines=$("$here/up.sh")
eval "$env_lines"
export OPSLEDGER_KAFKA_BOOTSTRAP OPSLEDGER_MONGO_URI

set +e
"$@"
rc=$?
set -e
exit "$rc"
