"""The auditors' tools: verify the hash chain, sign and check checkpoints, restore the
event store from Kafka, and export the audit trail."""
