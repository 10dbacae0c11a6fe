package sink

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// TestErasureEventIsNotStored: subscriber_erased is a control event; storing
// it would put the erased subscriber back into ClickHouse. Its offset is
// still committed.
func TestErasureEventIsNotStored(t *testing.T) {
	v, err := json.Marshal(schemas.Event{EventID: uuid.NewString(), SiteID: "s", SubscriberID: "a", Type: schemas.EventSubscriberErased})
	require.NoError(t, err)
	erased := kafka.Message{Topic: testTopic, Partition: 0, Offset: 1, Value: v}
	msgs := []kafka.Message{eventMsg(t, 0, 0), erased, eventMsg(t, 0, 2)}
	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, msgs...), dlq: &fakeDLQ{j: j}, store: newFakeStore(j)}
	h.start(t, Config{BatchSize: 100, BatchInterval: long})
	h.settle(t)
	require.NoError(t, h.stop(t))

	require.Equal(t, []string{"insert events.test:0:0-2", "commit p0@2"}, j.list())
	require.Equal(t, []int64{0, 2}, offsets(h.store.inserted()[0]))
	require.Empty(t, h.dlq.written())
}
