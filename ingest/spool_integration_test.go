package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

// outageProducer is the real Kafka writer behind a switch: while down,
// every write fails without reaching Kafka, as with a broker that is gone.
type outageProducer struct {
	w    *kafka.Writer
	down atomic.Bool
}

func (p *outageProducer) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if p.down.Load() {
		return errors.New("dial tcp 127.0.0.1:19092: connect: connection refused (simulated outage)")
	}
	return p.w.WriteMessages(ctx, msgs...)
}

func (p *outageProducer) Close() error { return p.w.Close() }

// spoolStack is a private topic and the spool directory of the ingest
// instances of one test.
type spoolStack struct {
	brokers []string
	topic   string
	cfg     Config
	log     *slog.Logger
}

func newSpoolStack(t *testing.T) *spoolStack {
	t.Helper()
	brokers := strings.Split(testkit.Kafka(t), ",")
	topic := "it-ingest-spool-" + uuid.NewString()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := kafkax.EnsureTopics(ctx, brokers, 3, 1, topic)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), brokers, topic) })
	cfg := Defaults()
	cfg.Topic = topic
	cfg.SpoolDir = t.TempDir()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &spoolStack{brokers: brokers, topic: topic, cfg: cfg, log: log}
}

// serve runs an ingest instance on a free port until the returned stop is
// called, and returns its base URL.
func (s *spoolStack) serve(t *testing.T, p Producer) (base string, stop func()) {
	t.Helper()
	svc, err := New(s.cfg, Deps{Sites: newFakeSites(), Producer: p}, s.log)
	require.NoError(t, err)
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-served)
		})
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func eventsURL(base string) string { return base + PathEvents + "?site_key=" + openKey }

// spoolRecords is the spool depth the instance's readyz shows (-1: no answer).
func spoolRecords(base string) int64 {
	status, body, err := call(http.MethodGet, base+PathReadyz, "")
	if err != nil || status != http.StatusOK {
		return -1
	}
	var r struct {
		Spool struct{ Records int64 } `json:"spool"`
	}
	if json.Unmarshal(body, &r) != nil {
		return -1
	}
	return r.Spool.Records
}

// waitSpoolEmpty waits until every spooled event was acknowledged by Kafka.
func waitSpoolEmpty(t *testing.T, base string) {
	t.Helper()
	require.Eventually(t, func() bool { return spoolRecords(base) == 0 }, time.Minute, 50*time.Millisecond)
}

// topicSize is the number of messages in the topic (it is private to the test).
func (s *spoolStack) topicSize(ctx context.Context, t *testing.T) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(s.brokers...), Timeout: 10 * time.Second}
	var reqs []kafka.OffsetRequest
	for p := range 3 {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{s.topic: reqs}})
	require.NoError(t, err)
	var n int64
	for _, p := range res.Topics[s.topic] {
		require.NoError(t, p.Error)
		n += p.LastOffset - p.FirstOffset
	}
	return n
}

// send posts beacons of 4 events over 3 subscribers and returns the
// accepted event ids per subscriber, in the order accepted.
func send(ctx context.Context, t *testing.T, url string, beacons int, accepted map[string][]string) {
	t.Helper()
	for i := range beacons {
		var evs []string
		var subs []string
		for j := range 4 {
			sub := fmt.Sprintf("sub-%d", (i+j)%3)
			subs = append(subs, sub)
			evs = append(evs, `{"type":"custom","name":"n`+fmt.Sprint(i)+`","subscriber_id":"`+sub+`"}`)
		}
		status, resp := postBeacon(ctx, t, url, beaconJSON(0, evs...))
		require.Equal(t, http.StatusAccepted, status, "%+v", resp)
		for j, id := range resp.EventIDs {
			accepted[subs[j]] = append(accepted[subs[j]], id)
		}
	}
}

// readTopic reads every partition of topic from the start until want
// messages arrived, and returns the event ids per subscriber in offset order.
func (s *spoolStack) readTopic(ctx context.Context, t *testing.T, want int) map[string][]string {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var mu sync.Mutex
	got, n := map[string][]string{}, 0
	var wg sync.WaitGroup
	for p := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.brokers, Topic: s.topic, Partition: p, MaxWait: 200 * time.Millisecond})
		wg.Go(func() {
			defer func() { _ = r.Close() }()
			for {
				m, err := r.ReadMessage(rctx)
				if err != nil {
					return
				}
				var e schemas.Event
				if err := json.Unmarshal(m.Value, &e); err != nil {
					t.Errorf("undecodable message at %d/%d: %v", p, m.Offset, err)
					continue
				}
				mu.Lock()
				got[e.SubscriberID] = append(got[e.SubscriberID], e.EventID)
				if n++; n == want {
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return got
}

func total(m map[string][]string) int {
	n := 0
	for _, ids := range m {
		n += len(ids)
	}
	return n
}

// TestIntegrationSpoolSurvivesKafkaOutage: while Kafka does not
// acknowledge, beacons are still answered 202; when it does again, every
// accepted event is in the topic exactly once, each subscriber's in the
// order accepted, followed by those sent afterwards.
func TestIntegrationSpoolSurvivesKafkaOutage(t *testing.T) {
	st := newSpoolStack(t)
	ctx := context.Background()
	p := &outageProducer{w: kafkax.NewWriter(st.cfg.WriterConfig(st.brokers), st.log)}
	base, _ := st.serve(t, p)
	url := eventsURL(base)

	accepted := map[string][]string{}
	send(ctx, t, url, 5, accepted) // Kafka up
	p.down.Store(true)
	send(ctx, t, url, 40, accepted) // Kafka down: into the spool
	require.EqualValues(t, 160, spoolRecords(base))
	p.down.Store(false)
	send(ctx, t, url, 5, accepted) // Kafka back: behind the spool until it is replayed

	want := total(accepted)
	require.Equal(t, 200, want)
	got := st.readTopic(ctx, t, want)
	require.Equal(t, accepted, got, "the accepted events, each subscriber's in the order accepted")
	waitSpoolEmpty(t, base)
	require.EqualValues(t, want, st.topicSize(ctx, t), "and nothing else: no duplicate, nothing refused")
}

// TestIntegrationSpoolReplayedAfterRestart: an instance whose producer
// points at a dead broker spools what it accepts and stops; a new instance
// on the same address and spool directory, with Kafka working, replays it
// before anything else.
func TestIntegrationSpoolReplayedAfterRestart(t *testing.T) {
	st := newSpoolStack(t)
	ctx := context.Background()
	dead := kafkax.NewWriter(st.cfg.WriterConfig([]string{"127.0.0.1:1"}), st.log)
	base, stop := st.serve(t, dead)
	accepted := map[string][]string{}
	send(ctx, t, eventsURL(base), 10, accepted)
	stop()
	segs, err := filepath.Glob(filepath.Join(st.cfg.SpoolPath(), "*.seg"))
	require.NoError(t, err)
	require.NotEmpty(t, segs, "the stopped instance left its spool on disk")

	base, _ = st.serve(t, kafkax.NewWriter(st.cfg.WriterConfig(st.brokers), st.log))
	send(ctx, t, eventsURL(base), 2, accepted) // behind the replayed ones
	want := total(accepted)
	got := st.readTopic(ctx, t, want)
	require.Equal(t, accepted, got, "the spooled events first, in order, then the new ones")
	waitSpoolEmpty(t, base)
	require.EqualValues(t, want, st.topicSize(ctx, t))
}
