package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestParseSimulate(t *testing.T) {
	f, err := parseSimulate([]string{"--site-key", "pps_x"}, nil)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8080", f.cfg.IngestURL)
	require.Equal(t, 100, f.cfg.Visitors)
	require.Equal(t, 20, f.cfg.Batch)
	require.Equal(t, 8, f.cfg.Concurrency)
	require.Equal(t, 7, f.cfg.Days)
	require.False(t, f.progress)
	g, err := parseSimulate([]string{"--site-key", "pps_x"}, nil)
	require.NoError(t, err)
	require.NotEqual(t, f.cfg.Seed, g.cfg.Seed, "without --seed every run gets its own visitors")

	f, err = parseSimulate(strings.Fields("--ingest http://127.0.0.1:9 --site-key k --visitors 5 --events 50 --rate 100 --batch 10 "+
		"--invalid 0.015 --concurrency 2 --accepted-ids ids.txt --days 0 --seed 0 --origin https://example.com --progress"), nil)
	require.NoError(t, err)
	c := f.cfg
	require.Equal(t, []any{"http://127.0.0.1:9", "k", 5, 50, 100.0, 10, 0.015, 2, 0, int64(0), "https://example.com"},
		[]any{c.IngestURL, c.SiteKey, c.Visitors, c.Events, c.Rate, c.Batch, c.Invalid, c.Concurrency, c.Days, c.Seed, c.Origin})
	require.Equal(t, "ids.txt", f.acceptedIDs)
	require.True(t, f.progress)

	_, err = parseSimulate(strings.Fields("--visitors 0 --days 30 stray"), nil)
	require.ErrorContains(t, err, "unexpected arguments: stray")
	_, err = parseSimulate(strings.Fields("--visitors 0 --days 30"), nil)
	require.ErrorContains(t, err, "site key")
	require.ErrorContains(t, err, "visitors")
	require.ErrorContains(t, err, "days")
}

// acceptingIngest accepts every event whose type is known and rejects the rest.
func acceptingIngest(t *testing.T, status int) (*httptest.Server, *int) {
	var mu sync.Mutex
	received := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b schemas.Beacon
		require.NoError(t, json.NewDecoder(r.Body).Decode(&b))
		mu.Lock()
		received += len(b.Events)
		mu.Unlock()
		if status != http.StatusAccepted {
			http.Error(w, "unknown site key", status)
			return
		}
		resp := map[string]any{"accepted": 0, "rejected": 0, "event_ids": []string{}}
		ids := []string{}
		for _, e := range b.Events {
			if e.Type.IsBeacon() {
				ids = append(ids, e.EventID)
			}
		}
		resp["accepted"], resp["event_ids"], resp["rejected"] = len(ids), ids, len(b.Events)-len(ids)
		code := http.StatusAccepted
		if len(ids) < len(b.Events) {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv, &received
}

var summaryRe = regexp.MustCompile(`^simulate: sent=(\d+) accepted=(\d+) rejected=(\d+) failed=(\d+) `)

func TestCmdSimulateSummaryAndAcceptedIDs(t *testing.T) {
	srv, _ := acceptingIngest(t, http.StatusAccepted)
	idsFile := filepath.Join(t.TempDir(), "ids.txt")
	e, stdout, stderr := testEnv(nil)
	code := run(context.Background(), strings.Fields("simulate --ingest "+srv.URL+" --site-key pps_x --visitors 100 --events 300 --invalid 0.05 --seed 3 --accepted-ids "+idsFile), e)
	require.Equal(t, 0, code, stderr.String())
	m := summaryRe.FindStringSubmatch(stdout.String())
	require.NotNil(t, m, stdout.String())
	require.Equal(t, 1, strings.Count(stdout.String(), "\n"), "one summary line")
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	require.Equal(t, 300, n(1))
	require.Equal(t, n(1), n(2)+n(3)+n(4))
	require.Contains(t, stdout.String(), " invalid=15 ", "5% of 300 events made invalid")
	require.Positive(t, n(3), "this fake rejects the unknown-type ones among them")
	raw, err := os.ReadFile(idsFile)
	require.NoError(t, err)
	lines := strings.Fields(string(raw))
	require.Len(t, lines, n(2))
	require.Contains(t, stdout.String(), "seed=3")
}

func TestCmdSimulateFailsWhenIngestRefuses(t *testing.T) {
	srv, received := acceptingIngest(t, http.StatusForbidden)
	e, stdout, stderr := testEnv(nil)
	code := run(context.Background(), strings.Fields("simulate --ingest "+srv.URL+" --site-key pps_x --visitors 10 --events 10 --seed 1"), e)
	require.Equal(t, 1, code)
	require.Contains(t, stdout.String(), "simulate: sent=10 accepted=0 rejected=0 failed=10 ")
	require.Contains(t, stderr.String(), "10 events failed: HTTP 403: unknown site key")
	require.Equal(t, 10, *received, "a refusal is not retried")
}
