package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/ingest/internal/geotest"
	"github.com/pushpipe/pushpipe/schemas"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestNewRefusesWriterForAnotherTopic(t *testing.T) {
	w := &kafka.Writer{Topic: "other"}
	_, err := New(Defaults(), Deps{Sites: newFakeSites(), Producer: w}, discardLogger())
	require.ErrorContains(t, err, `writes to "other", want "events.v1"`)
}

func TestGeoEnrichment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "city.mmdb")
	require.NoError(t, geotest.WriteCity(db,
		geotest.Place{Network: "198.51.100.0/24", Country: "AT", Region: "Vienna", RegionISO: "9", City: "Vienna"},
		geotest.Place{Network: "2001:db8:1234::/48", Country: "JP", Region: "Tokyo", RegionISO: "13", City: "Shibuya"},
	))
	for _, tt := range []struct {
		remote string
		want   schemas.Geo
		ip     string
	}{
		{"198.51.100.123:1", schemas.Geo{Country: "AT", Region: "Vienna", City: "Vienna"}, "198.51.100.0"},
		{"[2001:db8:1234:5678::1]:1", schemas.Geo{Country: "JP", Region: "Tokyo", City: "Shibuya"}, "2001:db8:1234::"},
		{"192.0.2.1:1", schemas.Geo{}, "192.0.2.0"},
	} {
		f := newFixture(t, func(c *Config, _ *Deps) { c.GeoIPDB = db })
		rec := f.do(t, request{remote: tt.remote, body: beaconJSON(0, pageView("s"))})
		require.Equal(t, http.StatusAccepted, rec.Code)
		ev := f.producer.events(t)[0]
		require.Equal(t, tt.want, ev.Geo, tt.remote)
		require.Equal(t, tt.ip, ev.IP, "located before anonymising")
	}
}

// Serve finishes a request in flight when ctx ends, then closes the producer.
func TestServeDrainsGracefully(t *testing.T) {
	f := newFixture(t)
	f.producer.hold = make(chan struct{})
	f.producer.entered = make(chan struct{}, 1)
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.svc.Serve(ctx, ln) }()

	url := "http://" + ln.Addr().String()
	status, _, err := call(http.MethodGet, url+PathHealthz, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)

	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		status, body, err := call(http.MethodPost, url+PathEvents+"?site_key="+testKey, beaconJSON(0, pageView("s")))
		answered <- answer{status, body, err}
	}()
	select {
	case <-f.producer.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the beacon never reached the producer")
	}
	cancel() // shut down while the request waits for "Kafka"
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned before the request in flight finished: %v", err)
	default:
	}
	close(f.producer.hold)
	a := <-answered
	require.NoError(t, a.err, "the request in flight got its answer")
	require.Equal(t, http.StatusAccepted, a.status, string(a.body))
	var out Response
	require.NoError(t, json.Unmarshal(a.body, &out))
	require.Equal(t, 1, out.Accepted)

	require.NoError(t, <-served)
	require.True(t, f.producer.isClosed(), "the producer is closed (flushed) at shutdown")
	_, err = (&net.Dialer{Timeout: time.Second}).DialContext(context.Background(), "tcp", ln.Addr().String())
	require.Error(t, err, "no longer accepting")
}

// call makes one HTTP request (a text/plain body when given) and reads the answer.
func call(method, url, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewBufferString(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}
