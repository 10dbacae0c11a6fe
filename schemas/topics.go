package schemas

// Kafka topic names. The version suffix changes only with an incompatible message format.
const (
	// TopicEvents carries every event (beacons from ingest and system events
	// from the sender and evaluator) as JSON-encoded Event, keyed "site_id:subscriber_id".
	TopicEvents = "events.v1"
	// TopicEventsDLQ receives messages of TopicEvents that could not be decoded,
	// with the reason and the original position in headers.
	TopicEventsDLQ = "events.dlq.v1"
	// TopicPushRequests carries PushRequest messages for the sender, keyed "site_id:subscriber_id".
	TopicPushRequests = "push-requests.v1"
)

// Topics lists every topic Pushpipe uses, for provisioning.
func Topics() []string {
	return []string{TopicEvents, TopicEventsDLQ, TopicPushRequests}
}

// DLQ header keys set on dead-lettered messages.
const (
	HeaderDLQReason    = "dlq-reason"
	HeaderDLQTopic     = "dlq-topic"
	HeaderDLQPartition = "dlq-partition"
	HeaderDLQOffset    = "dlq-offset"
)
