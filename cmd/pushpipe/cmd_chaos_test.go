package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/pushpipe/pushpipe/internal/testkit/pushservice"
)

func TestParseChaosFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		kill    []string
		wantErr string
	}{
		{name: "defaults kill every component in order", kill: chaosTargets},
		{name: "a chosen order", args: []string{"--kill", "kafka, ingest"}, kill: []string{"kafka", "ingest"}},
		{name: "unknown component", args: []string{"--kill", "ingest,redis"}, wantErr: `no component "redis"`},
		{name: "no load", args: []string{"--rate", "0"}, wantErr: "--rate"},
		{name: "negative downtime", args: []string{"--down", "-1s"}, wantErr: "durations"},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected arguments: now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseChaosFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kill, f.kill)
			require.GreaterOrEqual(t, f.rate, 2000.0, "the default load is at least 2,000 events/s")
		})
	}
}

func TestChaosResult(t *testing.T) {
	tests := []struct {
		name string
		res  chaosResult
		ok   bool
	}{
		{name: "everything once", res: chaosResult{accepted: 10, stored: 10}, ok: true},
		{name: "an event lost", res: chaosResult{accepted: 10, stored: 9, lost: 1}},
		{name: "an event twice", res: chaosResult{accepted: 10, stored: 10, duplicates: 1}},
		{name: "a push twice", res: chaosResult{accepted: 10, stored: 10, doubleSends: 1}},
		{name: "slow recovery alone does not fail", res: chaosResult{accepted: 1, stored: 1, maxRecovery: time.Hour}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.ok, tt.res.ok())
		})
	}
	line := chaosResult{accepted: 5, stored: 4, duplicates: 1, lost: 1, doubleSends: 2, maxRecovery: 12340 * time.Millisecond}.String()
	require.Equal(t, "chaos: accepted=5 stored=4 duplicates=1 lost=1 double_sends=2 max_recovery_s=12.3", line)
}

func TestTallyPushes(t *testing.T) {
	push := func(id string, status int) e2ePush {
		p := e2ePush{Delivery: pushservice.Delivery{Status: status, Plaintext: []byte(`{"push_id":"` + id + `"}`)}}
		p.Payload.PushID = id
		return p
	}
	refused := push("c", http.StatusCreated)
	refused.Reason = "bad VAPID"
	delivered, ids, doubles, examples, gaveUp := tallyPushes([]e2ePush{
		push("a", http.StatusCreated), push("a", http.StatusCreated), push("a", http.StatusCreated),
		push("b", http.StatusCreated),
		push("b", 0),   // the sender gave up before the answer: not shown twice
		refused,        // failed a check: never shown
		push("d", 500), // refused by the service: the sender retries
	})
	require.Equal(t, 4, delivered)
	require.Equal(t, 2, ids)
	require.Equal(t, 2, doubles, "a push id delivered three times is two double sends")
	require.Equal(t, []string{"a x3"}, examples)
	require.Equal(t, 1, gaveUp)
}

func TestUniqueIDs(t *testing.T) {
	require.Equal(t, []string{"a", "b", "c"}, uniqueIDs([]string{"a", "b", "a", "c", "b"}))
}

func TestChaosLimiterStops(t *testing.T) {
	stopped, stop := context.WithCancel(context.Background())
	l := &chaosLimiter{bucket: rate.NewLimiter(rate.Limit(1), 5), stopped: stopped}
	require.NoError(t, l.WaitN(context.Background(), 5), "the first burst passes")

	done := make(chan error, 1)
	go func() { done <- l.WaitN(context.Background(), 5) }() // would wait about 5 s for tokens
	stop()
	select {
	case err := <-done:
		require.ErrorIs(t, err, errLoadStopped, "a send waiting for tokens is refused at the stop")
	case <-time.After(2 * time.Second):
		t.Fatal("WaitN still blocked after the stop")
	}
	require.ErrorIs(t, l.WaitN(context.Background(), 1), errLoadStopped)
}

func TestChaosPostRetriesWithTheSameEvent(t *testing.T) {
	var mu sync.Mutex
	var seen []e2eBeaconEvent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Events []e2eBeaconEvent `json:"events"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&b))
		mu.Lock()
		seen = append(seen, b.Events...)
		n := len(seen)
		mu.Unlock()
		if n < 3 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable) // a full spool, or ingest restarting
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	in := &e2eIngest{base: srv.URL, client: srv.Client()}
	require.NoError(t, chaosPost(context.Background(), in, "pps_test", e2eBeaconEvent{Type: "custom", Name: "x", SubscriberID: "s1"}))
	require.Len(t, seen, 3)
	for _, ev := range seen[1:] {
		require.Equal(t, seen[0].EventID, ev.EventID, "a retry carries the same event id")
		require.Equal(t, seen[0].TS, ev.TS, "and the same client timestamp")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, chaosPost(ctx, &e2eIngest{base: "http://127.0.0.1:1", client: srv.Client()}, "k", e2eBeaconEvent{Type: "custom"}), context.Canceled)
}

func TestChaosSpoolRecords(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    int64
		wantErr bool
	}{
		{name: "ready", status: 200, body: `{"status":"ready","spool":{"enabled":true,"records":0}}`},
		{name: "Kafka down, spool filling", status: 503, body: `{"status":"not ready","spool":{"enabled":true,"records":42}}`, want: 42},
		{name: "no spool part", status: 503, body: `{"status":"shutting down"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			run := &chaosRun{st: &e2eStack{ingest: &e2eIngest{base: srv.URL, client: srv.Client()}}}
			n, err := run.spoolRecords(context.Background())
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, n)
		})
	}
}

func TestLastLine(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/role.log"
	long := strings.Repeat("x", 5000)
	require.NoError(t, os.WriteFile(path, []byte(long+"\nfirst\npushpipe sender: fetch push request: connection refused\n\n"), 0o600))
	require.Equal(t, "pushpipe sender: fetch push request: connection refused", lastLine(path))
	require.Contains(t, lastLine(dir+"/missing.log"), "no such file")
}
