package ingest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// spoolDepth reads the spool's part of GET /readyz.
func (f *fixture) spoolDepth(t *testing.T) (records, bytes int64) {
	t.Helper()
	rec := f.do(t, request{method: http.MethodGet, path: PathReadyz})
	require.Equal(t, http.StatusOK, rec.Code)
	var body struct {
		Spool struct {
			Enabled  bool  `json:"enabled"`
			Records  int64 `json:"records"`
			Bytes    int64 `json:"bytes"`
			MaxBytes int64 `json:"max_bytes"`
		} `json:"spool"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.True(t, body.Spool.Enabled)
	require.Positive(t, body.Spool.MaxBytes)
	return body.Spool.Records, body.Spool.Bytes
}

// postIDs posts a beacon of one page_view per subscriber, with event ids
// of its own, and returns the ids and the answer.
func (f *fixture) postIDs(t *testing.T, subs ...string) ([]string, Response, *http.Header) {
	t.Helper()
	var ids, evs []string
	for _, sub := range subs {
		id := uuid.Must(uuid.NewV7()).String()
		ids = append(ids, id)
		evs = append(evs, `{"event_id":"`+id+`","type":"page_view","subscriber_id":"`+sub+`","url":"https://shop.example/"}`)
	}
	rec := f.do(t, request{body: beaconJSON(0, evs...)})
	h := rec.Header()
	return ids, decodeResponse(t, rec), &h
}

// producedIDs are the event ids Kafka acknowledged, in the order produced.
func (f *fixture) producedIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, e := range f.producer.events(t) {
		ids = append(ids, e.EventID)
	}
	return ids
}

func (f *fixture) waitProduced(t *testing.T, want []string) {
	t.Helper()
	require.Eventually(t, func() bool { return len(f.producer.events(t)) >= len(want) }, 20*time.Second, 5*time.Millisecond)
	require.Equal(t, want, f.producedIDs(t), "every accepted event, once, in the order accepted")
}

func TestSpoolAcceptsWhileKafkaIsDownAndReplaysInOrder(t *testing.T) {
	f := newFixture(t)
	f.producer.setErr(errKafkaDown)
	var accepted []string
	for i := range 5 {
		ids, resp, _ := f.postIDs(t, "a", "b", fmt.Sprintf("c%d", i))
		require.Equal(t, 3, resp.Accepted, "accepted into the spool")
		require.Equal(t, ids, resp.EventIDs)
		accepted = append(accepted, ids...)
	}
	records, bytes := f.spoolDepth(t)
	require.EqualValues(t, 15, records, "readyz shows the spool's depth")
	require.Positive(t, bytes)
	require.Empty(t, f.producer.Calls(), "nothing reached Kafka yet")
	require.Contains(t, f.logs.String(), "spooling accepted events to disk")

	f.producer.setErr(nil)
	f.waitProduced(t, accepted)
	require.Eventually(t, func() bool { n, _ := f.spoolDepth(t); return n == 0 }, 10*time.Second, 5*time.Millisecond)
	segs, err := filepath.Glob(filepath.Join(f.svc.cfg.SpoolPath(), "*.seg"))
	require.NoError(t, err)
	require.Empty(t, segs, "replayed segments are deleted")
	require.Eventually(t, func() bool { return strings.Contains(f.logs.String(), "spool replayed") }, 10*time.Second, 5*time.Millisecond)

	ids, resp, _ := f.postIDs(t, "a")
	require.Equal(t, 1, resp.Accepted)
	f.waitProduced(t, append(accepted, ids...))
}

func TestSpoolFreshEventsDoNotOvertakeSpooledOnes(t *testing.T) {
	f := newFixture(t)
	f.producer.setErr(errKafkaDown)
	first, resp, _ := f.postIDs(t, "a", "a")
	require.Equal(t, 2, resp.Accepted)
	require.Eventually(t, func() bool { return f.producer.attempted() >= 2 }, 10*time.Second, time.Millisecond,
		"the replayer tried once and is backing off")

	f.producer.setErr(nil) // Kafka is back, the replayer has not noticed yet
	second, resp, _ := f.postIDs(t, "a")
	require.Equal(t, 1, resp.Accepted)
	f.waitProduced(t, append(first, second...))
}

func TestSpoolFullAnswers503WithRetryAfter(t *testing.T) {
	f := newFixture(t, func(c *Config, _ *Deps) { c.SpoolMaxBytes = 4096 })
	f.producer.setErr(errKafkaDown)
	var accepted, refused []string
	var retryAfter string
	for i := 0; i < 50 && refused == nil; i++ {
		ids, resp, h := f.postIDs(t, fmt.Sprintf("s%d", i))
		if resp.Accepted == 1 {
			accepted = append(accepted, ids...)
			continue
		}
		refused, retryAfter = ids, h.Get("Retry-After")
		require.Zero(t, resp.Accepted)
		require.Empty(t, resp.EventIDs)
		require.Contains(t, resp.Errors[len(resp.Errors)-1].Problem, "the disk spool is full")
	}
	require.NotEmpty(t, refused, "a 4 KiB spool fills up")
	require.NotEmpty(t, accepted)
	require.Equal(t, "10", retryAfter)
	records, bytes := f.spoolDepth(t)
	require.EqualValues(t, len(accepted), records, "nothing of the refused beacon is spooled")
	require.LessOrEqual(t, bytes, int64(4096))

	f.producer.setErr(nil)
	f.waitProduced(t, accepted) // and not the refused one
}

func TestSpoolOnlyWhatKafkaDidNotAcknowledge(t *testing.T) {
	f := newFixture(t)
	calls := 0
	f.producer.fail = func(msgs []kafka.Message) error {
		calls++
		if calls == 1 { // the beacon's own write: the second message fails
			return kafka.WriteErrors{nil, errKafkaDown}
		}
		return nil
	}
	ids, resp, _ := f.postIDs(t, "a", "b")
	require.Equal(t, 2, resp.Accepted)
	f.waitProduced(t, ids) // ids[0] by the beacon's write, ids[1] replayed: no duplicate
}

func TestSpooledMessageCodec(t *testing.T) {
	for _, m := range []kafka.Message{
		{Key: []byte("site:sub"), Value: []byte(`{"event_id":"x"}`)},
		{Key: nil, Value: []byte("v")},
		{Key: []byte("k"), Value: nil},
	} {
		got, err := decodeSpooled(encodeSpooled(m))
		require.NoError(t, err)
		require.Equal(t, string(m.Key), string(got.Key))
		require.Equal(t, string(m.Value), string(got.Value))
	}
	for _, bad := range [][]byte{nil, {0x80}, {5, 'a'}} {
		_, err := decodeSpooled(bad)
		require.Error(t, err, "%q", bad)
	}
}
