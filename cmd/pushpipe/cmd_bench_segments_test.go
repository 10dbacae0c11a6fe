package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestParseSegLatencyFlags(t *testing.T) {
	f, err := parseSegLatencyFlags(nil, io.Discard)
	require.NoError(t, err)
	require.InDelta(t, 2000, f.rate, 0)
	require.Equal(t, 20*time.Second, f.duration)
	require.Equal(t, "event page_view within 1h", f.rule)

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--rule", "event page_view within 100d"}, "--rule"},
		{[]string{"--rule", "event page_view within"}, "--rule"},
		{[]string{"--rate", "0"}, "must be positive"},
		{[]string{"extra"}, "unexpected arguments: extra"},
	}
	for _, tt := range tests {
		_, err := parseSegLatencyFlags(tt.args, io.Discard)
		require.ErrorContains(t, err, tt.want, tt.args)
	}
}

// The quantiles are nearest-rank: p99 of 1..100 ms is 99 ms, the maximum
// is the largest, and an empty set reports 0 rather than failing.
func TestDurationsQuantile(t *testing.T) {
	var d durations
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 99*time.Millisecond, d.p(0.99))
	require.Equal(t, 50*time.Millisecond, d.p(0.50))
	require.Equal(t, 100*time.Millisecond, d.p(1))
	require.Equal(t, 100*time.Millisecond, d[0], "p does not reorder the caller's slice")
	require.Zero(t, durations(nil).p(0.99))
}

// Only a 202 counts as accepted (the latency starts there); anything else
// is refused and never waited for. Each post is one new subscriber's
// page_view.
func TestSegLatencyPost(t *testing.T) {
	var got schemas.Beacon
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if json.NewDecoder(r.Body).Decode(&got) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	run := &segLatencyRun{
		ingestURL: srv.URL + "/v1/events?site_key=k", client: srv.Client(),
		sent: map[string]time.Time{}, accepted: map[string]time.Time{}, onTopic: map[string]time.Time{}, entered: map[string]time.Time{},
	}
	require.NoError(t, run.post(t.Context(), "sub-a"))
	require.Len(t, got.Events, 1)
	require.Equal(t, schemas.EventPageView, got.Events[0].Type)
	require.Equal(t, "sub-a", got.Events[0].SubscriberID)
	require.Contains(t, run.accepted, "sub-a")

	status = http.StatusServiceUnavailable
	require.ErrorContains(t, run.post(t.Context(), "sub-b"), "503")
	require.NotContains(t, run.accepted, "sub-b")
	require.Equal(t, 1, run.refused)

	require.Equal(t, 1, run.pending([]string{"sub-a", "sub-b"}), "only accepted subscribers are waited for")
	run.entered["sub-a"] = run.accepted["sub-a"].Add(7 * time.Millisecond)
	require.Zero(t, run.pending([]string{"sub-a", "sub-b"}))
	res := run.result([]string{"sub-a", "sub-b"}, time.Second)
	require.Equal(t, 1, res.accepted)
	require.Zero(t, res.missing())
	require.Equal(t, durations{7 * time.Millisecond}, res.entered)
}
