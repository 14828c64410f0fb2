"""Commands of the distributed mode: the API alone, the relay, the projector, topics,
schemas and the dead-letter queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from services.cli.common import DataDir, load_settings


def api(
    host: Annotated[str | None, typer.Option(help="bind address [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port [default: 8000]")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API alone. With Kafka and MongoDB set, queries read MongoDB and the
    relay and projector processes do the follower's work; otherwise it is `serve`."""
    import uvicorn

    from infra.auth import TokenConfigError
    from services.api.app import create_app
    from services.api.bootstrap import load_tokens

    settings = load_settings(data_dir, host=host, port=port)
    mode = "distributed (Kafka + MongoDB)" if settings.distributed else "embedded"
    typer.echo(f"OpsLedger API on http://{settings.host}:{settings.port} — {mode}")
    try:
        load_tokens(settings)  # refuse to start on malformed tokens, before serving
    except TokenConfigError as e:
        typer.echo(f"opsledger api: {e}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning", access_log=False)


topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)


@topics_app.command("create")
def topics_create(
    partitions: Annotated[int | None, typer.Option(help="per event topic [default: 3]")] = None,
    replication_factor: Annotated[int | None, typer.Option(help="[default: 1]")] = None,
    min_insync_replicas: Annotated[int | None, typer.Option(
        help="for clusters, e.g. 2 with replication factor 3")] = None,
) -> None:
    """Create OpsLedger's topics (kept forever); existing ones are left as they are."""
    from infra.kafka.admin import create_topics
    from infra.kafka.topics import Topics

    settings = load_settings()
    if not settings.kafka_bootstrap:
        typer.echo("set OPSLEDGER_KAFKA_BOOTSTRAP", err=True)
        raise typer.Exit(2)
    topics = Topics(settings.kafka_topic_prefix)
    created = create_topics(
        settings.kafka_bootstrap, topics,
        partitions=partitions or settings.kafka_partitions,
        replication_factor=replication_factor or settings.kafka_replication_factor,
        min_insync_replicas=min_insync_replicas,
    )
    for name in topics.specs():
        typer.echo(f"{'created' if name in created else 'exists '}  {name}")


schema_app = typer.Typer(help="The published event contract.", no_args_is_help=True)


@schema_app.command("export")
def schema_export(
    out: Annotated[Path, typer.Option(help="folder to write into")] = Path("schemas"),
) -> None:
    """Write a JSON Schema per event type and an AsyncAPI 3 document for the topics."""
    from infra.contract.schemas import all_event_schemas, asyncapi_document
    from infra.kafka.topics import Topics

    settings = load_settings()
    schemas = all_event_schemas()
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    for type_name, schema in schemas.items():
        (out / "schemas" / f"{type_name}.json").write_text(json.dumps(schema, indent=2) + "\n")
    document = asyncapi_document(Topics(settings.kafka_topic_prefix), schemas)
    (out / "asyncapi.json").write_text(json.dumps(document, indent=2) + "\n")
    typer.echo(f"wrote {len(schemas)} event schemas and asyncapi.json into {out}")


def relay(data_dir: DataDir = None) -> None:
    """Publish the event store's events to Kafka, exactly once, in position order.

    Needs OPSLEDGER_KAFKA_BOOTSTRAP (exit 2 without). SIGTERM/SIGINT: the batch in
    hand is finished, then the relay stops.
    """
    from services.process import configure_logging, stop_on_signals
    from services.relay.bootstrap import RelayConfigError, require_kafka, run_relay

    settings = load_settings(data_dir)
    try:
        require_kafka(settings)  # before the signal handlers: a refusal stays a refusal
        configure_logging()
        run_relay(settings, stop_on_signals("relay"))
    except RelayConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


def projector() -> None:
    """Fold the Kafka topics into the MongoDB read models (a consumer-group member).

    Needs OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI (exit 2 without).
    Optional: OPSLEDGER_MONGO_DB, OPSLEDGER_KAFKA_TOPIC_PREFIX,
    OPSLEDGER_PROJECTOR_GROUP, OPSLEDGER_PROJECTOR_BATCH,
    OPSLEDGER_PROJECTOR_SESSION_TIMEOUT_MS (10000: a killed projector's
    partitions move after this), OPSLEDGER_PROJECTOR_HEARTBEAT_INTERVAL_MS (2000),
    OPSLEDGER_PROJECTOR_INSTANCE_ID (static membership: a stable id per replica;
    a restart with it resumes at once).

    SIGTERM/SIGINT: the batch in hand is finished and the process leaves its
    group at once.
    """
    from services.process import configure_logging, stop_on_signals
    from services.projector.bootstrap import (
        MissingSettingError,
        crash_hook_from_env,
        require_distributed,
        run_projector,
    )

    settings = load_settings()
    try:
        require_distributed(settings)
    except MissingSettingError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    configure_logging()
    run_projector(settings, stop_on_signals("projector"),
                  after_store_commit=crash_hook_from_env())


deadletter_app = typer.Typer(help="Messages a projector could not apply.",
                             no_args_is_help=True)


def _deadletter_context() -> tuple[object, object, object]:
    from infra.kafka.topics import Topics
    from infra.read_store.mongo import MongoReadStore

    settings = load_settings()
    if not (settings.kafka_bootstrap and settings.mongo_uri):
        typer.echo("set OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI", err=True)
        raise typer.Exit(2)
    return (settings.kafka_bootstrap, Topics(settings.kafka_topic_prefix),
            MongoReadStore(settings.mongo_uri, settings.mongo_db))


def _operator() -> str:
    import getpass

    return f"user:{getpass.getuser()}"


@deadletter_app.command("list")
def deadletter_list(
    key: Annotated[str | None, typer.Option(help="only this aggregate id")] = None,
    status: Annotated[str | None, typer.Option(help="pending, replayed or skipped")] = None,
) -> None:
    """List dead letters with their reason, origin and the operator's decision."""
    from infra.kafka.deadletter import list_deadletters

    bootstrap, topics, store = _deadletter_context()
    letters = list_deadletters(bootstrap, topics, store, key=key,  # type: ignore[arg-type]
                               status=status)
    for letter in letters:
        typer.echo(json.dumps(letter.as_row(), default=str))
    typer.echo(f"{len(letters)} dead letter(s)", err=True)


@deadletter_app.command("replay")
def deadletter_replay(
    key: Annotated[str, typer.Option(help="the parked aggregate id")],
    reason: Annotated[str, typer.Option(help="why (recorded with the decision)")] = "",
) -> None:
    """Re-apply a parked aggregate's dead letters in order, then unpark it."""
    from infra.kafka.deadletter import replay as run_replay

    bootstrap, topics, store = _deadletter_context()
    result = run_replay(bootstrap, topics, store, actor=_operator(),  # type: ignore[arg-type]
                        reason=reason, key=key)
    typer.echo(json.dumps(result.__dict__, default=str))
    raise typer.Exit(0 if result.ok else 1)


@deadletter_app.command("skip")
def deadletter_skip(
    key: Annotated[str, typer.Option(help="the parked aggregate id")],
    reason: Annotated[str, typer.Option(help="why (recorded with the decision)")],
) -> None:
    """Mark a parked aggregate's pending dead letters skipped and unpark it."""
    from infra.kafka.deadletter import skip as run_skip

    bootstrap, topics, store = _deadletter_context()
    result = run_skip(bootstrap, topics, store, actor=_operator(),  # type: ignore[arg-type]
                      reason=reason, key=key)
    typer.echo(json.dumps(result.__dict__, default=str))
