package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/ingest/internal/geotest"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/schemas"
)

// TestIntegrationBeaconToKafka posts a beacon through the real service (real
// listener, Postgres control plane, Kafka writer with RequireAll) and reads
// the events back from events.v1.
func TestIntegrationBeaconToKafka(t *testing.T) {
	brokers := strings.Split(testkit.Kafka(t), ",")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	store := integrationStore(t)
	site, err := store.CreateSite(ctx, controlplane.NewSite{
		Name: "ingest-it-" + uuid.NewString(), AllowedOrigins: []string{"https://it.example"},
		Contact: "mailto:it@example.com", AnonymizeIP: true,
	})
	require.NoError(t, err)
	_, err = kafkax.EnsureTopics(ctx, brokers, 6, 1, schemas.Topics()...)
	require.NoError(t, err)
	start := partitionEnds(ctx, t, brokers[0])

	db := filepath.Join(t.TempDir(), "city.mmdb")
	require.NoError(t, geotest.WriteCity(db, geotest.Place{Network: "198.51.100.0/24", Country: "AT", Region: "Vienna", City: "Vienna"}))
	cfg := Defaults()
	cfg.SpoolDir = t.TempDir()
	cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	cfg.GeoIPDB = db
	svc, err := New(cfg, Deps{Sites: store, Producer: kafkax.NewWriter(cfg.WriterConfig(brokers), log)}, log)
	require.NoError(t, err)
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(sctx, ln) }()
	base := "http://" + ln.Addr().String() + PathEvents + "?site_key="

	status, _ := postBeacon(ctx, t, base+"pps_unknown", beaconJSON(0, pageView("x")))
	require.Equal(t, http.StatusUnauthorized, status, "unknown key, looked up in Postgres")

	subs := []string{"it-a-" + uuid.NewString(), "it-b-" + uuid.NewString()}
	givenID := uuid.Must(uuid.NewV7()).String()
	sentAt := time.Now().Add(-time.Hour) // the browser's clock is an hour behind
	body := beaconJSON(sentAt.UnixMilli(),
		`{"type":"page_view","subscriber_id":"`+subs[0]+`","url":"https://it.example/","ts":`+ms(sentAt.Add(-2*time.Second))+`}`,
		`{"type":"custom","subscriber_id":"`+subs[1]+`"}`, // invalid: no name
		`{"event_id":"`+givenID+`","type":"custom","subscriber_id":"`+subs[1]+`","name":"signup","props":{"plan":"pro"}}`,
		`{"type":"conversion","subscriber_id":"`+subs[0]+`","name":"purchase","revenue":12.5,"currency":"usd"}`,
	)
	status, resp := postBeacon(ctx, t, base+site.SiteKey, body)
	require.Equal(t, http.StatusBadRequest, status, "one event was invalid")
	require.Equal(t, 3, resp.Accepted)
	require.Equal(t, []Problem{{Index: 1, Field: "name", Problem: "is required for custom events (the event name)"}}, resp.Errors)

	got := readSiteEvents(ctx, t, brokers, start, site.ID, len(resp.EventIDs))
	require.ElementsMatch(t, resp.EventIDs, keysOfEvents(got))
	for _, e := range got {
		require.Contains(t, subs, e.SubscriberID)
		require.Equal(t, site.ID, e.SiteID)
		require.Equal(t, "198.51.100.0", e.IP, "X-Forwarded-For from the trusted proxy, anonymised")
		require.Equal(t, schemas.Geo{Country: "AT", Region: "Vienna", City: "Vienna"}, e.Geo)
		require.Equal(t, "Firefox", e.Device.Browser)
		require.Equal(t, "desktop", e.Device.Type)
		require.Equal(t, "en-GB", e.Device.Language)
		require.WithinDuration(t, time.Now(), e.ServerTime, time.Minute)
		if e.Type == schemas.EventPageView {
			require.WithinDuration(t, e.ServerTime.Add(-2*time.Second), e.Time, 2*time.Second, "skew-corrected")
		}
	}
	require.Equal(t, givenID, resp.EventIDs[1])
	require.Equal(t, givenID, findType(t, got, schemas.EventCustom).EventID, "the browser's event id is kept")
	require.Equal(t, "USD", findType(t, got, schemas.EventConversion).Currency)

	stop()
	require.NoError(t, <-served, "graceful shutdown flushes and closes the writer")
}

func integrationStore(t *testing.T) *controlplane.Store {
	t.Helper()
	db, _ := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	return controlplane.NewStore(db, key)
}

func postBeacon(ctx context.Context, t *testing.T, url, body string) (int, Response) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", "https://it.example")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0")
	req.Header.Set("Accept-Language", "en-GB")
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var out Response
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return res.StatusCode, out
}

// partitionEnds returns the next offset of every partition of events.v1.
func partitionEnds(ctx context.Context, t *testing.T, broker string) map[int]int64 {
	t.Helper()
	conn, err := kafka.DialContext(ctx, "tcp", broker)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	parts, err := conn.ReadPartitions(schemas.TopicEvents)
	require.NoError(t, err)
	ends := map[int]int64{}
	for _, p := range parts {
		lc, err := kafka.DialLeader(ctx, "tcp", broker, schemas.TopicEvents, p.ID)
		require.NoError(t, err)
		ends[p.ID], err = lc.ReadLastOffset()
		require.NoError(t, lc.Close())
		require.NoError(t, err)
	}
	return ends
}

// readSiteEvents reads every partition from start until want events of
// siteID have arrived (or ctx ends), checking each message's key.
func readSiteEvents(ctx context.Context, t *testing.T, brokers []string, start map[int]int64, siteID string, want int) []schemas.Event {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []schemas.Event
	var wg sync.WaitGroup
	for p, off := range start {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: schemas.TopicEvents, Partition: p, MaxWait: 200 * time.Millisecond})
		require.NoError(t, r.SetOffset(off))
		wg.Go(func() {
			defer func() { _ = r.Close() }()
			for {
				m, err := r.ReadMessage(rctx)
				if err != nil {
					return
				}
				var e schemas.Event
				if json.Unmarshal(m.Value, &e) != nil || e.SiteID != siteID {
					continue
				}
				mu.Lock()
				if string(m.Key) != e.Key() {
					t.Errorf("message key %q, want %q", m.Key, e.Key())
				}
				got = append(got, e)
				if len(got) == want {
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, got, want, "events of the site read back from %s", schemas.TopicEvents)
	return got
}

func keysOfEvents(evs []schemas.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.EventID)
	}
	return out
}

func findType(t *testing.T, evs []schemas.Event, typ schemas.EventType) schemas.Event {
	t.Helper()
	for _, e := range evs {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no %s event", typ)
	return schemas.Event{}
}
