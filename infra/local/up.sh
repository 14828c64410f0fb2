#!/usr/bin/env bash
# Start a real single-node Apache Kafka broker (KRaft) and a real FerretDB v1
# server (MongoDB wire protocol, SQLite backend) on 127.0.0.1, without Docker.
#
#   eval "$(infra/local/up.sh)"    # exports OPSLEDGER_KAFKA_BOOTSTRAP, OPSLEDGER_MONGO_URI
#                                  # and OPSLEDGER_INFRA_{KAFKA,FERRETDB}_DATA_DIR
#   infra/local/down.sh            # stop both (see down.sh --help)
#
# Progress goes to stderr; stdout carries only the `export ...` lines, which
# are also written to $OPSLEDGER_INFRA_STATE/env.sh. See README.md beside this
# file for the environment variables.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_READY_TIMEOUT=${OPSLEDGER_KAFKA_READY_TIMEOUT:-120}
MONGO_READY_TIMEOUT=${OPSLEDGER_MONGO_READY_TIMEOUT:-60}
KAFKA_HEAP_OPTS=${OPSLEDGER_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
KAFKA_LOG_LEVEL=${OPSLEDGER_KAFKA_LOG_LEVEL:-INFO}
FERRETDB_LOG_LEVEL=${OPSLEDGER_FERRETDB_LOG_LEVEL:-info}
# Go's collector at its default (100) takes ~15% of FerretDB's CPU on bulk inserts;
# 400 trades memory (peak ~0.8 GB instead of ~0.4 GB) for ~1.2x the documents/s.
FERRETDB_GOGC=${OPSLEDGER_FERRETDB_GOGC:-400}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# Servers run in their own session (no SIGINT/SIGHUP from the caller's terminal).
SETSID=$(command -v setsid || true)

T0=$(now)
STARTED=0

case $* in
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) die "unknown arguments: $* (up.sh takes none; configure it with OPSLEDGER_* variables)" ;;
esac

for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$MONGO_PORT"; do
    [[ $p =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "invalid port: '$p'"
done
if [[ $KAFKA_PORT == "$KAFKA_CONTROLLER_PORT" || $KAFKA_PORT == "$MONGO_PORT" ||
      $KAFKA_CONTROLLER_PORT == "$MONGO_PORT" ]]; then
    die "OPSLEDGER_KAFKA_PORT, OPSLEDGER_KAFKA_CONTROLLER_PORT and OPSLEDGER_MONGO_PORT must differ"
fi

# ---------------------------------------------------------------- probes ----

# A Python that has kafka-python, for the Kafka readiness probe (optional).
# OPSLEDGER_KAFKA_PROBE=java forces the Java AdminClient probe instead.
pick_kafka_python() {
    local py
    [[ ${OPSLEDGER_KAFKA_PROBE:-auto} == java ]] && return 1
    for py in "${OPSLEDGER_PYTHON:-}" "$REPO_ROOT/.venv/bin/python" python3; do
        [[ -n $py ]] || continue
        command -v "$py" >/dev/null 2>&1 || continue
        if timeout 20 "$py" -c 'import kafka' >/dev/null 2>&1; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

# kafka_probe: one bounded attempt with a real Kafka client: at least one
# live broker in the cluster metadata and a successful topic listing.
kafka_probe() {
    if [[ -n ${KAFKA_PY:-} ]]; then
        timeout 25 "$KAFKA_PY" - "$HOST:$KAFKA_PORT" 5000 <<'PY' 2>>"$LOG_DIR/kafka-probe.log"
import logging, os, sys
logging.disable(logging.CRITICAL)
from kafka import KafkaAdminClient
bootstrap, timeout_ms = sys.argv[1], int(sys.argv[2])
try:
    with KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-up-probe",
                          bootstrap_timeout_ms=timeout_ms, request_timeout_ms=timeout_ms) as admin:
        brokers = admin.describe_cluster().get("brokers") or []
        admin.list_topics()
    ok = len(brokers) >= 1
except Exception as exc:  # not ready yet: any client error
    print(f"kafka probe: {exc!r}", file=sys.stderr)
    ok = False
sys.stderr.flush()
os._exit(0 if ok else 1)
PY
    else
        timeout 60 "$JAVA" -Xmx128m -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
            -Dopsledger.kafka.log.level=ERROR -cp "$KAFKA_JARS/*" \
            "$INFRA_DIR/kafka/KafkaReady.java" "$HOST:$KAFKA_PORT" 5000 \
            >>"$LOG_DIR/kafka-probe.log" 2>&1
    fi
}

# mongo_probe: one bounded MongoDB wire-protocol `ping` (OP_MSG), stdlib only,
# so it works without pymongo. Falls back to "TCP accepts" without python3.
mongo_probe() {
    command -v python3 >/dev/null 2>&1 || { port_open "$MONGO_PORT"; return; }
    timeout 10 python3 - "$HOST" "$MONGO_PORT" <<'PY' 2>>"$LOG_DIR/ferretdb-probe.log"
import socket, struct, sys

def cstr(s):
    return s.encode() + b"\x00"

def bson(pairs):
    body = b""
    for key, value in pairs:
        if isinstance(value, int):
            body += b"\x10" + cstr(key) + struct.pack("<i", value)
        else:
            raw = cstr(value)
            body += b"\x02" + cstr(key) + struct.pack("<i", len(raw)) + raw
    return struct.pack("<i", len(body) + 5) + body + b"\x00"

def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf

def ok_field(doc):
    # Walk the top-level elements of a BSON document looking for "ok".
    sizes = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}
    i, end = 4, len(doc) - 1
    while i < end:
        etype = doc[i]; i += 1
        name_end = doc.index(b"\x00", i); name = doc[i:name_end].decode(); i = name_end + 1
        if name == "ok":
            if etype == 0x01: return struct.unpack_from("<d", doc, i)[0]
            if etype == 0x10: return struct.unpack_from("<i", doc, i)[0]
            if etype == 0x12: return struct.unpack_from("<q", doc, i)[0]
            if etype == 0x08: return doc[i]
            return None
        if etype in sizes: i += sizes[etype]
        elif etype in (0x02, 0x0D, 0x0E): i += 4 + struct.unpack_from("<i", doc, i)[0]
        elif etype in (0x03, 0x04): i += struct.unpack_from("<i", doc, i)[0]
        elif etype == 0x05: i += 5 + struct.unpack_from("<i", doc, i)[0]
        else: return None
    return None

try:
    body = struct.pack("<I", 0) + b"\x00" + bson([("ping", 1), ("$db", "admin")])
    msg = struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body  # OP_MSG
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as sock:
        sock.sendall(msg)
        length, _, _, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
        reply = recv_exact(sock, length - 16)
    if opcode != 2013 or reply[4] != 0:
        raise ValueError(f"unexpected reply opcode={opcode}")
    ok = ok_field(reply[5:]) == 1
    if not ok:
        print("mongo probe: ping not ok", file=sys.stderr)
except Exception as exc:
    print(f"mongo probe: {exc!r}", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
}

fail_with_log() { # fail_with_log MESSAGE LOGFILE
    log "$1"
    if [[ -f $2 ]]; then
        log "log file: $2 (last 30 lines follow)"
        tail -n 30 "$2" >&2 || true
    fi
    exit 1
}

# wait_ready NAME PID TIMEOUT LOGFILE PORT PROBE_FN: bounded readiness wait.
wait_ready() {
    local name=$1 pid=$2 timeout=$3 logfile=$4 port=$5 probe=$6
    local start deadline
    start=$(now)
    deadline=$((start + timeout))
    while :; do
        if ! pid_alive "$pid"; then
            fail_with_log "$name (pid $pid) exited during start-up" "$logfile"
        fi
        if port_open "$port" && "$probe"; then
            log "$name ready on $HOST:$port after $(($(now) - start))s"
            return 0
        fi
        if (($(now) >= deadline)); then
            fail_with_log "$name not ready on $HOST:$port after ${timeout}s" "$logfile"
        fi
        sleep 1
    done
}

# -------------------------------------------------------- already up? ----

kafka_pids=$(service_pids kafka "$KAFKA_MARKER")
ferretdb_pids=$(service_pids ferretdb "$FERRETDB_MARKER")

if [[ -n $kafka_pids || -n $ferretdb_pids ]]; then
    KAFKA_PY=$(pick_kafka_python || true)
    mkdir -p "$LOG_DIR"
    if [[ -n $kafka_pids && -n $ferretdb_pids && -f $ENV_FILE &&
          $(env_file_endpoints "$ENV_FILE") == "$(endpoint_lines)" ]] &&
       port_open "$KAFKA_PORT" && kafka_probe && port_open "$MONGO_PORT" && mongo_probe; then
        log "Kafka (pid $kafka_pids) and FerretDB (pid $ferretdb_pids) from a previous up are running and healthy"
        [[ $(cat "$ENV_FILE") == "$(env_lines)" ]] || env_lines >"$ENV_FILE"
        env_lines
        exit 0
    fi
    log "a previous up is partly running, unhealthy or on other ports: restarting it"
    "$INFRA_DIR/down.sh" >&2
fi

# ------------------------------------------------------------- ports ----

for entry in "OPSLEDGER_KAFKA_PORT:$KAFKA_PORT" "OPSLEDGER_KAFKA_CONTROLLER_PORT:$KAFKA_CONTROLLER_PORT" \
             "OPSLEDGER_MONGO_PORT:$MONGO_PORT"; do
    var=${entry%%:*}
    port=${entry#*:}
    if port_open "$port"; then
        die "port $HOST:$port ($var) is already in use by a process that up.sh did not start" \
            "(see: ss -ltnp 'sport = :$port'); stop it or choose another port with $var=..."
    fi
done

# ----------------------------------------------------- fresh state dir ----

mkdir -p "$STATE" "$CACHE"
rm -rf "$KAFKA_DATA_DIR" "$FERRETDB_DATA_DIR" "$KAFKA_CONF_DIR" "$LOG_DIR" "$RUN_DIR" "$ENV_FILE"
mkdir -p "$KAFKA_DATA_DIR" "$FERRETDB_DATA_DIR" "$KAFKA_CONF_DIR" "$LOG_DIR" "$RUN_DIR"

# If anything below fails after a server was started, stop what we started.
on_exit() {
    local rc=$?
    if ((rc != 0 && STARTED)); then
        log "start-up failed: stopping what this run started (data and logs kept in $STATE)"
        "$INFRA_DIR/down.sh" --keep-data >&2 || true
    fi
}
trap on_exit EXIT

# ------------------------------------------- artifacts (cached, parallel) ----

command -v "$JAVA" >/dev/null 2>&1 || die "java not found (Java 17+ is required for Kafka 4)"

sha_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

KAFKA_STAMP=$(sha_of "$INFRA_DIR/kafka/pom.xml")
FERRETDB_STAMP=$( (sha_of "$INFRA_DIR/ferretdb/go.mod" "$INFRA_DIR/ferretdb/go.sum" \
    "$INFRA_DIR/ferretdb/main.go" "$INFRA_DIR/ferretdb/build.sh"; echo "${OPSLEDGER_FERRETDB_UNPATCHED:-}") | sha256sum | cut -d' ' -f1)

fetch_kafka_jars() {
    local tmp=$CACHE/kafka-jars.tmp.$$
    rm -rf "$tmp"
    mvn -B -q -f "$INFRA_DIR/kafka/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime
    ls "$tmp"/kafka_2.13-*.jar >/dev/null
    echo "$KAFKA_STAMP" >"$tmp/.pom.sha256"
    rm -rf "$KAFKA_JARS"
    mv "$tmp" "$KAFKA_JARS"
}

build_ferretdb() {
    local tmp=$CACHE/bin/ferretdb.tmp.$$
    mkdir -p "$CACHE/bin"
    bash "$INFRA_DIR/ferretdb/build.sh" "$tmp"
    echo "$FERRETDB_STAMP" >"$CACHE/bin/.ferretdb.sha256"
    mv -f "$tmp" "$FERRETDB_BIN"
}

jobs_pids=()
if [[ $(cat "$KAFKA_JARS/.pom.sha256" 2>/dev/null) == "$KAFKA_STAMP" ]]; then
    log "Kafka jars: cached in $KAFKA_JARS"
else
    command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Kafka jars)"
    log "Kafka jars: fetching with Maven into $KAFKA_JARS (log: $LOG_DIR/mvn.log)"
    fetch_kafka_jars >"$LOG_DIR/mvn.log" 2>&1 &
    jobs_pids+=("$!:Maven (Kafka jars):$LOG_DIR/mvn.log")
fi
if [[ -x $FERRETDB_BIN && $(cat "$CACHE/bin/.ferretdb.sha256" 2>/dev/null) == "$FERRETDB_STAMP" ]]; then
    log "FerretDB: cached binary $FERRETDB_BIN"
else
    command -v go >/dev/null 2>&1 || die "go not found (needed once to build FerretDB)"
    log "FerretDB: building $FERRETDB_BIN with Go (log: $LOG_DIR/go-build.log)"
    build_ferretdb >"$LOG_DIR/go-build.log" 2>&1 &
    jobs_pids+=("$!:Go build (FerretDB):$LOG_DIR/go-build.log")
fi
for job in "${jobs_pids[@]}"; do
    IFS=: read -r jpid jname jlog <<<"$job"
    if ! wait "$jpid"; then
        fail_with_log "$jname failed" "$jlog"
    fi
done
((${#jobs_pids[@]})) && log "artifacts ready after $(($(now) - T0))s"

# ----------------------------------------------------------- Kafka (KRaft) ----

cat >"$KAFKA_CONF_DIR/server.properties" <<EOF
# Generated by infra/local/up.sh: single-node KRaft (combined broker+controller), 127.0.0.1 only.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$KAFKA_DATA_DIR

auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF

# A fresh cluster id every time (the data dir is fresh too): 16 random bytes,
# URL-safe base64 without padding, like kafka-storage random-uuid.
CLUSTER_ID=$(python3 -c 'import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s); break' 2>/dev/null || echo "b3BzbGVkZ2VyLWxvY2FsLQ")

JAVA_LOG_OPTS=(-Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" -Dopsledger.kafka.log.level="$KAFKA_LOG_LEVEL")

log "Kafka: formatting storage (cluster id $CLUSTER_ID)"
if ! "$JAVA" -Xmx256m "${JAVA_LOG_OPTS[@]}" -cp "$KAFKA_JARS/*" kafka.tools.StorageTool format \
        --standalone -t "$CLUSTER_ID" -c "$KAFKA_CONF_DIR/server.properties" \
        >"$LOG_DIR/kafka-format.log" 2>&1; then
    fail_with_log "Kafka storage format failed" "$LOG_DIR/kafka-format.log"
fi

# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags; SETSID empty or one word
nohup $SETSID "$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true "${JAVA_LOG_OPTS[@]}" -cp "$KAFKA_JARS/*" \
    kafka.Kafka "$KAFKA_CONF_DIR/server.properties" \
    >"$LOG_DIR/kafka.log" 2>&1 </dev/null &
KAFKA_PID=$!
STARTED=1

# ---------------------------------------------------------------- FerretDB ----

# shellcheck disable=SC2086 # SETSID is empty or one word
GOGC=$FERRETDB_GOGC nohup $SETSID "$FERRETDB_BIN" --listen-addr="$HOST:$MONGO_PORT" \
    --sqlite-url="file:$FERRETDB_DATA_DIR/" --log-level="$FERRETDB_LOG_LEVEL" \
    >"$LOG_DIR/ferretdb.log" 2>&1 </dev/null &
FERRETDB_PID=$!

# setsid execs in place (no fork) when not a process-group leader, which is
# the case for background jobs of a non-interactive shell; double-check.
sleep 0.2
pid_is_ours "$KAFKA_PID" "$KAFKA_MARKER" || KAFKA_PID=$(pids_with_marker "$KAFKA_MARKER" | head -n1 || true)
pid_is_ours "$FERRETDB_PID" "$FERRETDB_MARKER" || FERRETDB_PID=$(pids_with_marker "$FERRETDB_MARKER" | head -n1 || true)
[[ -n $KAFKA_PID ]] || fail_with_log "Kafka exited right after start" "$LOG_DIR/kafka.log"
[[ -n $FERRETDB_PID ]] || fail_with_log "FerretDB exited right after start" "$LOG_DIR/ferretdb.log"
echo "$KAFKA_PID" >"$RUN_DIR/kafka.pid"
echo "$FERRETDB_PID" >"$RUN_DIR/ferretdb.pid"
log "started Kafka (pid $KAFKA_PID, log $LOG_DIR/kafka.log) and FerretDB (pid $FERRETDB_PID, log $LOG_DIR/ferretdb.log)"

# --------------------------------------------------------------- readiness ----

wait_ready FerretDB "$FERRETDB_PID" "$MONGO_READY_TIMEOUT" "$LOG_DIR/ferretdb.log" "$MONGO_PORT" mongo_probe

KAFKA_PY=$(pick_kafka_python || true)
if [[ -n $KAFKA_PY ]]; then
    log "Kafka readiness probe: kafka-python via $KAFKA_PY"
else
    log "Kafka readiness probe: Java AdminClient (no Python with kafka-python found)"
fi
wait_ready Kafka "$KAFKA_PID" "$KAFKA_READY_TIMEOUT" "$LOG_DIR/kafka.log" "$KAFKA_PORT" kafka_probe

env_lines >"$ENV_FILE"
log "up in $(($(now) - T0))s; env written to $ENV_FILE"
env_lines
