"""The outbox relay service: the event store's events, published to Kafka exactly once.

``opsledger relay`` (or ``python -m services.relay``, the same command) runs it until
SIGTERM/SIGINT; :mod:`services.relay.bootstrap` builds and runs the relay.
"""
