package kafkax

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit"
)

// GroupLag counts what a group has not committed, from the first offset for
// a group that never committed; topics are created once and deleted.
func TestTopicsAndGroupLag(t *testing.T) {
	brokers := strings.Split(testkit.Kafka(t), ",")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	topic := fmt.Sprintf("kafkax-test-%d", time.Now().UnixNano())
	created, err := EnsureTopics(ctx, brokers, 2, 1, topic)
	require.NoError(t, err)
	require.Equal(t, []string{topic}, created)
	created, err = EnsureTopics(ctx, brokers, 2, 1, topic)
	require.NoError(t, err, "creating an existing topic is not an error")
	require.Empty(t, created)
	defer func() { require.NoError(t, DeleteTopics(context.Background(), brokers, topic)) }()

	w := NewWriter(WriterConfig{Brokers: brokers, Topic: topic}, log)
	msgs := make([]kafka.Message, 5)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte("v")}
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.Close())

	group := topic + "-group"
	lag, err := GroupLag(ctx, brokers, group, topic)
	require.NoError(t, err)
	require.Equal(t, int64(5), lag)

	r := NewReader(ReaderConfig{Brokers: brokers, Topic: topic, GroupID: group}, log)
	defer func() { _ = r.Close() }()
	for range 2 {
		m, err := r.FetchMessage(ctx)
		require.NoError(t, err)
		require.NoError(t, r.CommitMessages(ctx, m))
	}
	lag, err = GroupLag(ctx, brokers, group, topic)
	require.NoError(t, err)
	require.Equal(t, int64(3), lag)

	_, err = GroupLag(ctx, brokers, group, topic+"-missing")
	require.Error(t, err)
}
