"""The projector service: Kafka event topics -> MongoDB read models.

``opsledger projector`` (or ``python -m services.projector``, the same command) runs
one consumer-group member until SIGTERM/SIGINT; start several for more throughput
(up to one per partition). :mod:`services.projector.bootstrap` builds and runs it.
"""
