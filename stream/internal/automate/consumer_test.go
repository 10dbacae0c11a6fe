package automate

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/schemas"
)

// fakeFetcher hands out its messages, then blocks until ctx ends.
type fakeFetcher struct {
	mu        sync.Mutex
	msgs      []kafka.Message
	committed []kafka.Message
	store     *fakeStore
	rowsAt    []int // rows stored when each commit happened
}

func (f *fakeFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	f.mu.Lock()
	if len(f.msgs) > 0 {
		m := f.msgs[0]
		f.msgs = f.msgs[1:]
		f.mu.Unlock()
		return m, nil
	}
	f.mu.Unlock()
	<-ctx.Done()
	return kafka.Message{}, ctx.Err()
}

func (f *fakeFetcher) CommitMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed = append(f.committed, msgs...)
	f.rowsAt = append(f.rowsAt, len(f.store.all()))
	return nil
}

func TestConsumerCommitsAfterInserting(t *testing.T) {
	w := newWorld(t)
	w.automation(t, `{"trigger": {"kind": "subscribed"}, "steps": [{"message": `+msg("Hi")+`}]}`, statusEnabled)
	f := &fakeFetcher{store: w.store}
	for i, sub := range []string{"a", "b", "c"} {
		v, err := json.Marshal(w.event(sub, schemas.EventSubscribed, "", nil))
		require.NoError(t, err)
		f.msgs = append(f.msgs, kafka.Message{Partition: i % 2, Offset: int64(i), Value: v})
	}
	f.msgs = append(f.msgs, kafka.Message{Partition: 0, Offset: 3, Value: []byte("not json")})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w.rt.consumeFrom(ctx, f) }()
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.msgs) == 0
	}, testWait, testTick)
	cancel()
	<-done

	require.Len(t, w.store.all(), 3)
	f.mu.Lock()
	defer f.mu.Unlock()
	last := map[int]int64{}
	for _, m := range f.committed {
		last[m.Partition] = max(last[m.Partition], m.Offset)
	}
	require.Equal(t, map[int]int64{0: 3, 1: 1}, last, "every handled message committed, the undecodable one too")
	for i, n := range f.rowsAt {
		require.Equal(t, 3, n, "commit %d came after the inserts", i)
	}
}

func TestBatchKeepsEventOrderForAbsenceCancels(t *testing.T) {
	w := newWorld(t)
	id := w.automation(t, cartAbandon, statusEnabled)
	encode := func(e *schemas.Event) kafka.Message {
		v, err := json.Marshal(e)
		require.NoError(t, err)
		return kafka.Message{Value: v}
	}
	add1 := w.event("s1", schemas.EventCustom, "add_to_cart", map[string]string{"cart_id": "c1"})
	buy := w.event("s1", schemas.EventConversion, "purchase", map[string]string{"cart_id": "c1"})
	add2 := w.event("s1", schemas.EventCustom, "add_to_cart", map[string]string{"cart_id": "c1"})
	require.NoError(t, w.rt.handleBatch(t.Context(), []kafka.Message{encode(add1), encode(buy), encode(add2)}))
	require.Equal(t, "cancelled", w.store.row(t, automation.RequestID(id, 0, "s1", add1.EventID)).State, "bought in time")
	require.Equal(t, statePending, w.store.row(t, automation.RequestID(id, 0, "s1", add2.EventID)).State, "a new cart after the purchase")
}
