"""Kafka adapters: the outbox relay, the projector consumer, topics and the wire codec."""
