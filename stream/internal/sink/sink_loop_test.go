package sink

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// long keeps the time bound out of a test that is about the size bound.
const long = time.Hour

func TestCommitOnlyAfterInsert(t *testing.T) {
	h := startSink(t, Config{BatchSize: 3, BatchInterval: long}, eventMsgs(t, 0, 0, 5)...)
	require.Eventually(t, func() bool { return len(h.consumer.committed()) == 2 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{
		"insert events.test:0:0-2", "commit p0@2",
		"insert events.test:0:3-5", "commit p0@5",
	}, h.j.list())
	require.Equal(t, Stats{Inserted: 6, Batches: 2}, h.sink.Stats())
}

func TestFailingInsertIsRetriedAndNotCommitted(t *testing.T) {
	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, eventMsgs(t, 0, 0, 1)...), dlq: &fakeDLQ{j: j}, store: newFakeStore(j)}
	h.store.failures = 3
	h.start(t, Config{BatchSize: 2, BatchInterval: long})
	require.Eventually(t, func() bool { return len(h.consumer.committed()) == 1 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{
		"insert-fail events.test:0:0-1", "insert-fail events.test:0:0-1", "insert-fail events.test:0:0-1",
		"insert events.test:0:0-1", "commit p0@1",
	}, j.list(), "the same batch (same token) is retried and committed only after it succeeded")
	require.Equal(t, int64(1), h.sink.Stats().Batches)
}

func TestInsertFailingUntilDrainBudgetCommitsNothing(t *testing.T) {
	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, eventMsgs(t, 0, 0, 1)...), dlq: &fakeDLQ{j: j}, store: newFakeStore(j)}
	h.store.failForever = true
	h.start(t, Config{BatchSize: 2, BatchInterval: long, DrainTimeout: 50 * time.Millisecond})
	require.Eventually(t, func() bool { return len(j.list()) >= 3 }, 5*time.Second, time.Millisecond)
	err := h.stop(t)
	require.ErrorIs(t, err, ErrDrainBudget)
	require.Empty(t, h.consumer.committed())
	require.Empty(t, h.store.inserted())
}

func TestReplayedOffsetsAreSkipped(t *testing.T) {
	tests := []struct {
		name        string
		stored      map[int]int64 // watermark per partition before the run
		wantRows    []int64
		wantSkipped int64
	}{
		{name: "nothing stored", stored: map[int]int64{}, wantRows: []int64{0, 1, 2, 3, 4, 5}},
		{name: "offset 0 stored", stored: map[int]int64{0: 0}, wantRows: []int64{1, 2, 3, 4, 5}, wantSkipped: 1},
		{name: "up to 3 stored", stored: map[int]int64{0: 3}, wantRows: []int64{4, 5}, wantSkipped: 4},
		{name: "all stored", stored: map[int]int64{0: 9}, wantSkipped: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &journal{}
			h := &harness{j: j, consumer: newFakeConsumer(j, eventMsgs(t, 0, 0, 5)...), dlq: &fakeDLQ{j: j}, store: newFakeStore(j)}
			h.store.watermarks = tt.stored
			h.start(t, Config{BatchSize: 100, BatchInterval: long})
			h.settle(t)
			require.NoError(t, h.stop(t))
			var got []int64
			for _, b := range h.store.inserted() {
				got = append(got, offsets(b)...)
			}
			require.Equal(t, tt.wantRows, got)
			require.Equal(t, tt.wantSkipped, h.sink.Stats().Skipped)
			require.Equal(t, []kafka.Message{{Topic: testTopic, Partition: 0, Offset: 5}}, h.consumer.committed(),
				"skipped messages count as processed")
		})
	}
}

func TestRewindReloadsWatermarkAndPrunesBuffer(t *testing.T) {
	tests := []struct {
		name        string
		batchSize   int
		want        []string
		wantSkipped int64
	}{
		{
			name:      "rewound messages still buffered are taken again",
			batchSize: 100,
			want:      []string{"insert events.test:0:10-15", "commit p0@15"},
		},
		{
			name:        "rewound messages already inserted are skipped",
			batchSize:   4,
			want:        []string{"insert events.test:0:10-13", "commit p0@13", "insert events.test:0:14-15", "commit p0@15"},
			wantSkipped: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startSink(t, Config{BatchSize: tt.batchSize, BatchInterval: long}, eventMsgs(t, 0, 10, 13)...)
			h.settle(t)
			// A rebalance hands the partition back from its committed offset.
			h.consumer.push(eventMsgs(t, 0, 11, 15)...)
			h.settle(t)
			require.NoError(t, h.stop(t))
			require.Equal(t, tt.want, h.j.list())
			require.Equal(t, tt.wantSkipped, h.sink.Stats().Skipped)
			var rows []int64
			for _, b := range h.store.inserted() {
				rows = append(rows, offsets(b)...)
			}
			require.Equal(t, []int64{10, 11, 12, 13, 14, 15}, rows, "each offset stored once")
			require.Equal(t, 2, h.store.reads, "watermark read at the first message and at the rewind")
		})
	}
}

func TestReturnedPartitionDropsWhatOthersStored(t *testing.T) {
	// This member buffered 10-13, lost the partition, and got it back at 20
	// after another member stored up to 19: the buffer is dropped, not re-inserted.
	h := startSink(t, Config{BatchSize: 100, BatchInterval: long}, eventMsgs(t, 0, 10, 13)...)
	h.settle(t)
	h.store.mu.Lock()
	h.store.watermarks[0] = 19
	h.store.mu.Unlock()
	h.consumer.push(eventMsgs(t, 0, 20, 21)...)
	h.settle(t)
	require.NoError(t, h.stop(t))
	require.Equal(t, []string{"insert events.test:0:20-21", "commit p0@21"}, h.j.list())
	require.Equal(t, int64(4), h.sink.Stats().Skipped)
}

func TestForwardGapKeepsBatch(t *testing.T) {
	// Offsets can jump forward (transaction markers, compaction): the
	// watermark is read again and the buffered rows stay in the batch.
	msgs := append(eventMsgs(t, 0, 0, 1), eventMsgs(t, 0, 5, 6)...)
	h := startSink(t, Config{BatchSize: 100, BatchInterval: long}, msgs...)
	h.settle(t)
	require.NoError(t, h.stop(t))
	require.Equal(t, []string{"insert events.test:0:0-6", "commit p0@6"}, h.j.list())
	require.Equal(t, []int64{0, 1, 5, 6}, offsets(h.store.inserted()[0]))
	require.Equal(t, 2, h.store.reads)
}

func TestGarbageIsDeadLetteredAndPartitionFlows(t *testing.T) {
	garbage := kafka.Message{
		Topic: testTopic, Partition: 0, Offset: 1, Key: []byte("k1"), Value: []byte("{not json"),
		Headers: []kafka.Header{{Key: "trace", Value: []byte("abc")}},
	}
	msgs := []kafka.Message{eventMsg(t, 0, 0), garbage, eventMsg(t, 0, 2)}
	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, msgs...), dlq: &fakeDLQ{j: j, failures: 2}, store: newFakeStore(j)}
	h.start(t, Config{BatchSize: 100, BatchInterval: long})
	h.settle(t)
	require.NoError(t, h.stop(t))

	require.Equal(t, []string{"dlq-fail", "dlq-fail", "dlq 1", "insert events.test:0:0-2", "commit p0@2"}, j.list())
	dl := h.dlq.written()
	require.Len(t, dl, 1)
	require.Equal(t, garbage.Key, dl[0].Key)
	require.Equal(t, garbage.Value, dl[0].Value)
	require.Contains(t, headerValue(dl[0], schemas.HeaderDLQReason), "invalid JSON")
	require.Equal(t, testTopic, headerValue(dl[0], schemas.HeaderDLQTopic))
	require.Equal(t, "0", headerValue(dl[0], schemas.HeaderDLQPartition))
	require.Equal(t, "1", headerValue(dl[0], schemas.HeaderDLQOffset))
	require.Equal(t, "abc", headerValue(dl[0], "trace"))
	require.Equal(t, []int64{0, 2}, offsets(h.store.inserted()[0]))
	require.Equal(t, Stats{Inserted: 2, Batches: 1, DeadLettered: 1}, h.sink.Stats())
}

func TestOnlyGarbageIsStillCommitted(t *testing.T) {
	msgs := []kafka.Message{{Topic: testTopic, Partition: 3, Offset: 7, Value: []byte(`{"site_id":"s"}`)}}
	h := startSink(t, Config{BatchSize: 100, BatchInterval: 10 * time.Millisecond}, msgs...)
	require.Eventually(t, func() bool { return len(h.consumer.committed()) == 1 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{"dlq 7", "commit p3@7"}, h.j.list())
	require.Empty(t, h.store.inserted())
}

func TestBatchesArePerPartitionAndSizeBounded(t *testing.T) {
	var msgs []kafka.Message
	for o := int64(0); o < 5; o++ { // interleaved, as a consumer of many partitions sees them
		msgs = append(msgs, eventMsg(t, 0, o), eventMsg(t, 1, 100+o))
	}
	h := startSink(t, Config{BatchSize: 2, BatchInterval: long}, msgs...)
	h.settle(t)
	require.NoError(t, h.stop(t))
	var p0, p1 [][]int64
	for _, b := range h.store.inserted() {
		require.LessOrEqual(t, len(b.Rows), 2)
		if b.Partition == 0 {
			p0 = append(p0, offsets(b))
		} else {
			p1 = append(p1, offsets(b))
		}
	}
	require.Equal(t, [][]int64{{0, 1}, {2, 3}, {4}}, p0, "the last partial batch is flushed by the drain")
	require.Equal(t, [][]int64{{100, 101}, {102, 103}, {104}}, p1)
	require.ElementsMatch(t, []kafka.Message{
		{Topic: testTopic, Partition: 0, Offset: 1},
		{Topic: testTopic, Partition: 1, Offset: 101},
		{Topic: testTopic, Partition: 0, Offset: 3},
		{Topic: testTopic, Partition: 1, Offset: 103},
		{Topic: testTopic, Partition: 0, Offset: 4},
		{Topic: testTopic, Partition: 1, Offset: 104},
	}, h.consumer.committed())
}

func TestBatchIsTimeBounded(t *testing.T) {
	h := startSink(t, Config{BatchSize: 1000, BatchInterval: 20 * time.Millisecond}, eventMsgs(t, 2, 0, 2)...)
	require.Eventually(t, func() bool { return len(h.consumer.committed()) == 1 }, 5*time.Second, time.Millisecond,
		"a batch far below its size is inserted and committed once it is old enough, without a shutdown")
	require.Equal(t, []string{"insert events.test:2:0-2", "commit p2@2"}, h.j.list())
}

func TestCommitFailureIsRetriedLater(t *testing.T) {
	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, eventMsgs(t, 0, 0, 0)...), dlq: &fakeDLQ{j: j}, store: newFakeStore(j)}
	fails := 2
	h.consumer.commitErr = func() error {
		if fails == 0 {
			return nil
		}
		fails--
		return errors.New("rebalance in progress")
	}
	h.start(t, Config{BatchSize: 1000, BatchInterval: 10 * time.Millisecond})
	require.Eventually(t, func() bool { return len(h.consumer.committed()) == 1 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{"insert events.test:0:0-0", "commit-fail p0@0", "commit-fail p0@0", "commit p0@0"}, j.list(),
		"the batch is inserted once; only the commit is repeated")
}

// withID is m carrying the event id of other: a beacon that the browser sent
// again after an ambiguous failure.
func withID(t *testing.T, m, other kafka.Message) kafka.Message {
	t.Helper()
	var ev, orig schemas.Event
	require.NoError(t, json.Unmarshal(m.Value, &ev))
	require.NoError(t, json.Unmarshal(other.Value, &orig))
	ev.EventID = orig.EventID
	v, err := json.Marshal(ev)
	require.NoError(t, err)
	m.Value = v
	return m
}

func TestRetriedEventIsStoredOnce(t *testing.T) {
	first := eventMsgs(t, 0, 0, 4)
	first[3] = withID(t, first[3], first[1]) // a repeat within the buffered batch
	h := startSink(t, Config{BatchSize: 2, BatchInterval: long}, first...)
	h.settle(t)
	later := eventMsgs(t, 0, 5, 6)
	later[1] = withID(t, later[1], first[0]) // a repeat of an event inserted (or about to be) in an earlier batch
	h.consumer.push(later...)
	h.settle(t)
	require.NoError(t, h.stop(t))
	var stored []int64
	for _, b := range h.store.inserted() {
		stored = append(stored, offsets(b)...)
	}
	require.Equal(t, []int64{0, 1, 2, 4, 5}, stored)
	require.Equal(t, int64(2), h.sink.Stats().Duplicates)
	last := h.consumer.committed()
	require.Equal(t, int64(6), last[len(last)-1].Offset, "duplicates are committed like any handled message")
}

func TestDedupWindowSurvivesRestart(t *testing.T) {
	// A first sink stores 0-2; a second one (after a crash or a rebalance)
	// gets a repeat of offset 1's event at offset 3: it reloads the ids stored
	// just below the watermark and drops the repeat.
	first := startSink(t, Config{BatchSize: 3, BatchInterval: long}, eventMsgs(t, 0, 0, 2)...)
	first.settle(t)
	require.NoError(t, first.stop(t))
	repeat := withID(t, eventMsg(t, 0, 3), first.store.inserted()[0].Rows[1].asMessage(t))

	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, repeat, eventMsg(t, 0, 4)), dlq: &fakeDLQ{j: j}, store: first.store}
	h.start(t, Config{BatchSize: 10, BatchInterval: 10 * time.Millisecond})
	h.settle(t)
	require.NoError(t, h.stop(t))
	batches := h.store.inserted()
	require.Equal(t, []int64{4}, offsets(batches[len(batches)-1]))
	require.Equal(t, int64(1), h.sink.Stats().Duplicates)
}
