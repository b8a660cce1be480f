"""The NATS JetStream adapter: events published by learner partition, recorded by workers."""
