// Package kafkax holds Kafka plumbing shared by the roles: writer and reader
// constructors with Pushpipe's defaults, and kafka-go's logger bridged to slog.
// It knows nothing of event contents.
package kafkax

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// WriterConfig tunes a producer. Zero values take the defaults noted.
type WriterConfig struct {
	Brokers      []string
	Topic        string
	BatchTimeout time.Duration // default 2ms: kafka-go's 1 s default would hold every request that long
	BatchSize    int           // default 500 messages
}

// NewWriter returns a producer that waits for all in-sync replicas (RequireAll)
// and partitions by key with murmur2, as the Java client does.
func NewWriter(cfg WriterConfig, log *slog.Logger) *kafka.Writer {
	if cfg.BatchTimeout == 0 {
		cfg.BatchTimeout = 2 * time.Millisecond
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 500
	}
	return &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Topic:                  cfg.Topic,
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           cfg.BatchTimeout,
		BatchSize:              cfg.BatchSize,
		BatchBytes:             8 << 20,
		MaxAttempts:            5,
		WriteTimeout:           10 * time.Second,
		AllowAutoTopicCreation: false,
		ErrorLogger:            ErrorLogger(log),
	}
}

// ReaderConfig tunes a consumer-group reader.
type ReaderConfig struct {
	Brokers []string
	Topic   string
	GroupID string
}

// NewReader returns a consumer-group reader with synchronous commits
// (CommitInterval 0): callers FetchMessage, write, then CommitMessages.
func NewReader(cfg ReaderConfig, log *slog.Logger) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:           cfg.Brokers,
		Topic:             cfg.Topic,
		GroupID:           cfg.GroupID,
		MinBytes:          1,
		MaxBytes:          16 << 20,
		MaxWait:           250 * time.Millisecond,
		CommitInterval:    0,
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		ErrorLogger:       ErrorLogger(log),
	})
}

// ErrorLogger bridges kafka-go's error logger to slog at warn level.
func ErrorLogger(log *slog.Logger) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		log.Warn(fmt.Sprintf(msg, args...), "component", "kafka")
	})
}

// controller dials the cluster's controller, where topic changes go.
func controller(ctx context.Context, brokers []string) (*kafka.Conn, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no brokers")
	}
	d := &kafka.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", brokers[0], err)
	}
	defer func() { _ = conn.Close() }()
	ctl, err := conn.Controller()
	if err != nil {
		return nil, fmt.Errorf("find controller: %w", err)
	}
	cc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ctl.Host, strconv.Itoa(ctl.Port)))
	if err != nil {
		return nil, fmt.Errorf("dial controller: %w", err)
	}
	return cc, nil
}

// DeleteTopics deletes topics (for scratch topics of benchmarks and tests).
func DeleteTopics(ctx context.Context, brokers []string, topics ...string) error {
	cc, err := controller(ctx, brokers)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	defer func() { _ = cc.Close() }()
	if err := cc.DeleteTopics(topics...); err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	return nil
}

// EnsureTopics creates the topics that do not exist yet (existing ones are
// left alone) and waits until every partition of every topic has a leader:
// a new topic, or a broker that has just started, needs a moment, and a
// broker that has just started may drop the first requests, so both steps
// are retried until ctx ends or 30 s pass. It returns the topics it created.
func EnsureTopics(ctx context.Context, brokers []string, partitions, replication int, topics ...string) ([]string, error) {
	if len(brokers) == 0 {
		return nil, errors.New("ensure topics: no brokers")
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var created []string
	for {
		made, err := createTopics(ctx, client, partitions, replication, topics)
		created = append(created, made...)
		if err == nil {
			err = checkLeaders(ctx, client, topics)
		}
		if err == nil {
			return created, nil
		}
		select {
		case <-ctx.Done():
			return created, fmt.Errorf("ensure topics %v: %w", topics, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func createTopics(ctx context.Context, client *kafka.Client, partitions, replication int, topics []string) ([]string, error) {
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("create topics: %w", err)
	}
	var created []string
	var errs []error
	for _, t := range topics {
		switch err := resp.Errors[t]; {
		case err == nil:
			created = append(created, t)
		case errors.Is(err, kafka.TopicAlreadyExists):
		default:
			errs = append(errs, fmt.Errorf("create topic %s: %w", t, err))
		}
	}
	return created, errors.Join(errs...)
}

// checkLeaders fails unless every partition of the topics has a leader.
func checkLeaders(ctx context.Context, client *kafka.Client, topics []string) error {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	for _, t := range md.Topics {
		if t.Error != nil {
			return fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		if len(t.Partitions) == 0 {
			return fmt.Errorf("topic %s has no partitions yet", t.Name)
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.ID < 0 {
				return fmt.Errorf("topic %s partition %d has no leader", t.Name, p.ID)
			}
		}
	}
	return nil
}

// GroupLag returns how many messages of topic the consumer group has not
// committed yet, summed over partitions (a partition the group never
// committed counts from its first offset).
func GroupLag(ctx context.Context, brokers []string, group, topic string) (int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("group lag: metadata: %w", err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return 0, fmt.Errorf("group lag: topic %s not found", topic)
	}
	var parts []int
	var first, last []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
		first = append(first, kafka.FirstOffsetOf(p.ID))
		last = append(last, kafka.LastOffsetOf(p.ID))
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: append(first, last...)}})
	if err != nil {
		return 0, fmt.Errorf("group lag: list offsets: %w", err)
	}
	committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, fmt.Errorf("group lag: offset fetch: %w", err)
	}
	done := map[int]int64{}
	for _, p := range committed.Topics[topic] {
		done[p.Partition] = p.CommittedOffset
	}
	var lag int64
	for _, p := range ends.Topics[topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("group lag: partition %d: %w", p.Partition, p.Error)
		}
		from := done[p.Partition]
		if from < p.FirstOffset {
			from = p.FirstOffset
		}
		lag += max(p.LastOffset-from, 0)
	}
	return lag, nil
}
