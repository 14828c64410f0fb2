# shellcheck shell=bash
# Shared helpers for infra/local/up.sh and infra/local/down.sh (sourced, not run).
# Everything here writes to stderr only: stdout of up.sh is reserved for the
# `export ...` lines so that `eval "$(infra/local/up.sh)"` works.

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INFRA_DIR/../.." && pwd)

OPSLEDGER_INFRA_CACHE=${OPSLEDGER_INFRA_CACHE:-$HOME/.cache/opsledger-infra}
OPSLEDGER_INFRA_STATE=${OPSLEDGER_INFRA_STATE:-/tmp/opsledger-infra}
# Absolute paths: they are baked into process command lines and pid checks.
CACHE=$(realpath -m -- "$OPSLEDGER_INFRA_CACHE")
STATE=$(realpath -m -- "$OPSLEDGER_INFRA_STATE")

HOST=127.0.0.1
KAFKA_PORT=${OPSLEDGER_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${OPSLEDGER_KAFKA_CONTROLLER_PORT:-9093}
MONGO_PORT=${OPSLEDGER_MONGO_PORT:-27017}

RUN_DIR=$STATE/run
LOG_DIR=$STATE/logs
KAFKA_CONF_DIR=$STATE/kafka
KAFKA_DATA_DIR=$STATE/kafka-data
FERRETDB_DATA_DIR=$STATE/ferretdb-data
ENV_FILE=$STATE/env.sh

KAFKA_JARS=$CACHE/kafka-jars
FERRETDB_BIN=$CACHE/bin/ferretdb

# Strings that only appear in the command line of the processes that up.sh
# started for this state dir; used to tell our processes from anything else
# (a recycled pid, another checkout's servers, a system-wide MongoDB, ...).
KAFKA_MARKER="$KAFKA_CONF_DIR/server.properties"
FERRETDB_MARKER="file:$FERRETDB_DATA_DIR/"

log() { printf '[opsledger-infra] %s\n' "$*" >&2; }

die() {
    printf '[opsledger-infra] ERROR: %s\n' "$*" >&2
    exit 1
}

now() { date +%s; }

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # Field 3 (after the parenthesised command name) is the state letter.
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# cmdline_of PID: the command line with NULs turned into spaces.
cmdline_of() {
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# pid_is_ours PID MARKER: alive and started by up.sh for this state dir.
pid_is_ours() {
    pid_alive "$1" || return 1
    [[ $(cmdline_of "$1") == *"$2"* ]]
}

# pids_with_marker MARKER: every live process whose command line contains
# MARKER (a fixed string, not a pattern). Bounded: one pass over /proc.
pids_with_marker() {
    local marker=$1 dir pid
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        if [[ $(cmdline_of "$pid") == *"$marker"* ]] && pid_alive "$pid"; then
            echo "$pid"
        fi
    done
}

# service_pids NAME MARKER: pids of our running NAME (pid file first, then a
# /proc scan for orphans whose pid file was lost), deduplicated.
service_pids() {
    local name=$1 marker=$2 pidfile="$RUN_DIR/$1.pid" pid
    {
        if [[ -f $pidfile ]]; then
            pid=$(cat "$pidfile" 2>/dev/null || true)
            pid_is_ours "$pid" "$marker" && echo "$pid"
        fi
        pids_with_marker "$marker"
    } | sort -u
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# endpoint_lines: where the servers listen (what a running setup is matched on).
endpoint_lines() {
    printf 'export OPSLEDGER_KAFKA_BOOTSTRAP=%s:%s\n' "$HOST" "$KAFKA_PORT"
    printf 'export OPSLEDGER_MONGO_URI=mongodb://%s:%s\n' "$HOST" "$MONGO_PORT"
}

# env_lines: exactly what up.sh prints on stdout (and writes to env.sh): the
# endpoints, then where the servers keep their files (tests search those bytes).
env_lines() {
    endpoint_lines
    printf 'export OPSLEDGER_INFRA_KAFKA_DATA_DIR=%q\n' "$KAFKA_DATA_DIR"
    printf 'export OPSLEDGER_INFRA_FERRETDB_DATA_DIR=%q\n' "$FERRETDB_DATA_DIR"
}

# env_file_endpoints: the endpoint lines of an env.sh (one written before the data
# dir lines existed matches too, so a running setup is not restarted for them).
env_file_endpoints() {
    grep -E '^export OPSLEDGER_(KAFKA_BOOTSTRAP|MONGO_URI)=' "$1" 2>/dev/null || true
}
