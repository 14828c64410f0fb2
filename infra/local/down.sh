#!/usr/bin/env bash
# Stop the local Kafka broker and FerretDB server started by infra/local/up.sh.
#
#   infra/local/down.sh              # stop both, delete their data (default)
#   infra/local/down.sh --keep-data  # stop both, keep kafka-data/ and ferretdb-data/
#
# SIGTERM first, then SIGKILL after OPSLEDGER_INFRA_STOP_TIMEOUT seconds
# (default 30). Only processes started by up.sh for this state dir
# (OPSLEDGER_INFRA_STATE) are touched. Safe to run when nothing is running.
# Logs in $OPSLEDGER_INFRA_STATE/logs are kept either way.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEEP_DATA=${OPSLEDGER_INFRA_KEEP_DATA:-0}
STOP_TIMEOUT=${OPSLEDGER_INFRA_STOP_TIMEOUT:-30}

for arg in "$@"; do
    case $arg in
        --keep-data) KEEP_DATA=1 ;;
        --delete-data) KEEP_DATA=0 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $arg (use --keep-data, --delete-data or --help)" ;;
    esac
done

declare -a targets=()
for svc in ferretdb:"$FERRETDB_MARKER" kafka:"$KAFKA_MARKER"; do
    name=${svc%%:*}
    marker=${svc#*:}
    mapfile -t pids < <(service_pids "$name" "$marker")
    if ((${#pids[@]})); then
        log "stopping $name (pid ${pids[*]}) with SIGTERM"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for pid in "${pids[@]}"; do targets+=("$name:$pid"); done
    else
        log "$name: not running"
    fi
done

if ((${#targets[@]})); then
    deadline=$(($(now) + STOP_TIMEOUT))
    while :; do
        remaining=()
        for t in "${targets[@]}"; do
            pid_alive "${t#*:}" && remaining+=("$t")
        done
        ((${#remaining[@]} == 0)) && break
        if (($(now) >= deadline)); then
            log "still running after ${STOP_TIMEOUT}s, sending SIGKILL: ${remaining[*]}"
            for t in "${remaining[@]}"; do kill -KILL "${t#*:}" 2>/dev/null || true; done
            for _ in $(seq 1 50); do
                alive=0
                for t in "${remaining[@]}"; do pid_alive "${t#*:}" && alive=1; done
                ((alive == 0)) && break
                sleep 0.1
            done
            for t in "${remaining[@]}"; do
                pid_alive "${t#*:}" && die "could not kill ${t%%:*} (pid ${t#*:})"
            done
            break
        fi
        sleep 0.2
    done
    # The servers were re-parented to init when up.sh exited; give it a moment
    # (at most 5 s) to reap them so `pgrep` right after down.sh sees nothing.
    for _ in $(seq 1 50); do
        zombies=0
        for t in "${targets[@]}"; do [[ -e /proc/${t#*:} ]] && zombies=1; done
        ((zombies == 0)) && break
        sleep 0.1
    done
    log "stopped: ${targets[*]}"
fi

rm -f "$RUN_DIR/kafka.pid" "$RUN_DIR/ferretdb.pid" "$ENV_FILE"

if [[ $KEEP_DATA == 1 ]]; then
    log "data kept in $KAFKA_DATA_DIR and $FERRETDB_DATA_DIR"
else
    rm -rf "$KAFKA_DATA_DIR" "$FERRETDB_DATA_DIR" "$KAFKA_CONF_DIR"
    log "data deleted (logs kept in $LOG_DIR)"
fi
