package sink

import (
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestDecode(t *testing.T) {
	const id = "0190f5d2-7b1c-7cc3-8d1e-5f2a3b4c5d6e"
	tests := []struct {
		name   string
		value  string
		reason string // substring of the reason; empty when decodable
	}{
		{name: "valid", value: `{"event_id":"` + id + `","site_id":"s","type":"page_view"}`},
		{name: "braced uuid is normalised", value: `{"event_id":"{` + id + `}","site_id":"s","type":"custom"}`},
		{name: "not json", value: `{"event_id":`, reason: "invalid JSON"},
		{name: "empty value", value: ``, reason: "invalid JSON"},
		{name: "array", value: `[1,2]`, reason: "invalid JSON"},
		{name: "bad time", value: `{"event_id":"` + id + `","site_id":"s","type":"x","time":"yesterday"}`, reason: "invalid JSON"},
		{name: "json null", value: `null`, reason: "missing event_id, site_id, type"},
		{name: "missing site and type", value: `{"event_id":"` + id + `"}`, reason: "missing site_id, type"},
		{name: "missing event_id", value: `{"site_id":"s","type":"page_view"}`, reason: "missing event_id"},
		{name: "event_id not uuid", value: `{"event_id":"abc","site_id":"s","type":"page_view"}`, reason: `event_id "abc" is not a UUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, reason := decode([]byte(tt.value))
			if tt.reason != "" {
				require.Contains(t, reason, tt.reason)
				return
			}
			require.Empty(t, reason)
			require.Equal(t, id, row.ID.String())
			require.Equal(t, id, row.Event.EventID)
			require.Equal(t, "s", row.Event.SiteID)
		})
	}
}

func TestDeadLetterKeepsMessageAndPosition(t *testing.T) {
	m := kafka.Message{
		Topic: "events.v1", Partition: 4, Offset: 1234567, Key: []byte("s:u"), Value: []byte("garbage"),
		Headers: []kafka.Header{{Key: "h", Value: []byte("v")}},
	}
	dl := deadLetter(m, strings.Repeat("é", 400))
	require.Equal(t, m.Key, dl.Key)
	require.Equal(t, m.Value, dl.Value)
	require.Empty(t, dl.Topic, "the writer sets the topic")
	require.Equal(t, "v", headerValue(dl, "h"))
	require.Equal(t, "events.v1", headerValue(dl, schemas.HeaderDLQTopic))
	require.Equal(t, "4", headerValue(dl, schemas.HeaderDLQPartition))
	require.Equal(t, "1234567", headerValue(dl, schemas.HeaderDLQOffset))
	reason := headerValue(dl, schemas.HeaderDLQReason)
	require.LessOrEqual(t, len(reason), maxReasonLen+3)
	require.True(t, strings.HasSuffix(reason, "..."))
	require.NotContains(t, reason, "\uFFFD")
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"event_id":"0190f5d2-7b1c-7cc3-8d1e-5f2a3b4c5d6e","site_id":"s","type":"page_view"}`))
	f.Add([]byte(`{"event_id":"x"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, value []byte) {
		row, reason := decode(value)
		if reason == "" {
			require.NotEmpty(t, row.Event.SiteID)
			require.NotEmpty(t, row.Event.Type)
			require.Equal(t, row.ID.String(), row.Event.EventID)
		}
	})
}
