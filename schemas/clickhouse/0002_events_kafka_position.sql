-- The sink reads the event ids of a partition's most recent offsets after
-- every restart or rebalance (its dedup window). Each insert holds one Kafka
-- partition's consecutive offsets, so a minmax index on the position prunes
-- nearly every other part.
ALTER TABLE events ADD INDEX IF NOT EXISTS kafka_position (kafka_partition, kafka_offset) TYPE minmax GRANULARITY 1;
