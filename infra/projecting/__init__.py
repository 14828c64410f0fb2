"""Running the folds outside Kafka: the embedded follower, point-in-time replay, and
the two blue/green rebuilds (embedded SQLite tables, distributed MongoDB generations)."""
