"""Pure folds of events into read-model documents. No I/O: the same folds serve the
embedded follower, the Kafka projector and point-in-time replay."""
