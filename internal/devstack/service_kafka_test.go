package devstack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

func TestJavaMajor(t *testing.T) {
	tests := []struct {
		out  string
		want int
	}{
		{`openjdk version "17.0.15" 2025-04-15`, 17},
		{`openjdk version "21" 2023-09-19`, 21},
		{`java version "1.8.0_392"`, 8},
	}
	for _, tt := range tests {
		got, err := javaMajor(tt.out)
		require.NoError(t, err, tt.out)
		require.Equal(t, tt.want, got, tt.out)
	}
	_, err := javaMajor("command not found")
	require.Error(t, err)
}

func TestKafkaClusterID(t *testing.T) {
	for range 100 {
		id, err := kafkaClusterID()
		require.NoError(t, err)
		require.Len(t, id, 22)
		require.NotEqual(t, byte('-'), id[0])
	}
}

func TestKafkaServerProperties(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = "/srv/dev"
	cfg.KafkaPort = 29092
	cfg.Partitions = 3
	cfg, err := cfg.withDefaults()
	require.NoError(t, err)
	k := newKafka(cfg, newLayout(cfg), progress{mu: &sync.Mutex{}})
	props := k.serverProperties()
	for _, want := range []string{
		"controller.quorum.voters=1@127.0.0.1:29093\n",
		"listeners=PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093\n",
		"advertised.listeners=PLAINTEXT://127.0.0.1:29092\n",
		"log.dirs=/srv/dev/kafka/data\n",
		"num.partitions=3\n",
		"auto.create.topics.enable=false\n",
	} {
		require.Contains(t, props, want)
	}
	pom := kafkaPOM()
	require.Contains(t, pom, "<artifactId>kafka_2.13</artifactId><version>4.1.2</version>")
	require.Contains(t, pom, "<artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version>")
	require.Contains(t, pom, "<packaging>pom</packaging>")
}

// TestKafkaConsumerGroup checks against a running stack that the topics exist
// and that a consumer group joins, receives a produced message and commits it.
func TestKafkaConsumerGroup(t *testing.T) {
	checkKafkaConsumerGroup(t, testkit.Kafka(t))
}

func checkKafkaConsumerGroup(t *testing.T, addrs string) {
	brokers := strings.Split(addrs, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: schemas.Topics()})
	require.NoError(t, err)
	for _, topic := range md.Topics {
		require.NoError(t, topic.Error, topic.Name)
		require.NotEmpty(t, topic.Partitions, topic.Name)
	}

	group := fmt.Sprintf("devstack-test-%d", time.Now().UnixNano())
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, GroupID: group, Topic: schemas.TopicEvents,
		StartOffset: kafka.LastOffset, MaxWait: 200 * time.Millisecond,
	})
	defer func() { _ = reader.Close() }()
	key := []byte(group)
	stopProducing := produceUntilDone(ctx, t, brokers, key)
	defer stopProducing()

	msg := fetchKey(ctx, t, reader, key)
	require.NoError(t, reader.CommitMessages(ctx, msg))

	offsets, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{
		GroupID: group, Topics: map[string][]int{schemas.TopicEvents: {msg.Partition}},
	})
	require.NoError(t, err)
	require.Equal(t, msg.Offset+1, offsets.Topics[schemas.TopicEvents][0].CommittedOffset)
}

// produceUntilDone writes a message with key every second until stopped:
// the group may join after the first write, and starts at the newest offset.
func produceUntilDone(ctx context.Context, t *testing.T, brokers []string, key []byte) func() {
	ctx, cancel := context.WithCancel(ctx)
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: schemas.TopicEvents, RequiredAcks: kafka.RequireAll}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := w.WriteMessages(ctx, kafka.Message{Key: key, Value: []byte(`{"test":true}`)}); err != nil && ctx.Err() == nil {
				t.Logf("produce: %v", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return func() {
		cancel()
		<-done
		_ = w.Close()
	}
}

func fetchKey(ctx context.Context, t *testing.T, r *kafka.Reader, key []byte) kafka.Message {
	t.Helper()
	for {
		msg, err := r.FetchMessage(ctx)
		require.NoError(t, err)
		if string(msg.Key) == string(key) {
			return msg
		}
	}
}
