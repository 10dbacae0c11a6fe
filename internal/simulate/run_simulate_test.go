package simulate

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func runConfig(srvURL string) Config {
	cfg := testConfig()
	cfg.IngestURL = srvURL
	cfg.Visitors = 60
	cfg.Concurrency = 4
	cfg.RetryBase = time.Millisecond
	cfg.RetryMax = 5 * time.Millisecond
	return cfg
}

func markedInvalid(cfg Config) (events, invalid int) {
	for _, b := range generateAll(cfg) {
		events += len(b.events)
		invalid += b.invalidCount()
	}
	return events, invalid
}

func TestRunCountsAddUp(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_test")
	cfg := runConfig(srv.URL)
	cfg.Invalid = 0.05
	cfg.Origin = "https://shop.example.org"
	wantEvents, wantInvalid := markedInvalid(cfg)
	require.Positive(t, wantInvalid)

	res, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Equal(t, wantEvents, res.Sent)
	require.Equal(t, wantInvalid, res.Invalid)
	require.Equal(t, wantInvalid, res.Rejected, "ingest rejects exactly the events marked invalid")
	require.Equal(t, res.Sent, res.Accepted+res.Rejected+res.Failed)
	require.Zero(t, res.Failed)
	require.Zero(t, res.Retries)
	require.Len(t, fake.rejected, wantInvalid)
	require.ElementsMatch(t, fake.accepted, res.AcceptedIDs)
	require.Equal(t, res.Requests, len(res.Latencies))
	require.Positive(t, res.Percentile(0.99))
	for _, h := range fake.headers {
		require.Contains(t, h.Get("User-Agent"), "Mozilla/5.0")
		require.NotEmpty(t, h.Get("Accept-Language"))
		require.Equal(t, "https://shop.example.org", h.Get("Origin"))
	}
}

func TestRunRetriesResendIdenticalEvents(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_test")
	// First attempt of every batch fails: 503, 429 or a dropped connection,
	// by the first id's last hex digit; the second goes through.
	fake.fault = func(key string, n int) int {
		if n > 1 {
			return 0
		}
		switch key[len(key)-1] % 3 {
		case 0:
			return http.StatusServiceUnavailable
		case 1:
			return http.StatusTooManyRequests
		default:
			return -1
		}
	}
	cfg := runConfig(srv.URL)
	cfg.Invalid = 0.03
	wantEvents, wantInvalid := markedInvalid(cfg)

	res, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Equal(t, wantEvents, res.Sent)
	require.Equal(t, wantEvents-wantInvalid, res.Accepted)
	require.Equal(t, wantInvalid, res.Rejected)
	require.Zero(t, res.Failed)
	require.Equal(t, len(fake.attempts), res.Retries, "one retry per batch")
	for key, bodies := range fake.attempts {
		require.Len(t, bodies, 2, "batch %s", key)
		require.Equal(t, bodies[0], bodies[1], "a retry re-sends the same events with the same ids")
	}
	require.Len(t, res.AcceptedIDs, res.Accepted)
	ids := slices.Clone(res.AcceptedIDs)
	slices.Sort(ids)
	require.Len(t, slices.Compact(ids), res.Accepted, "no event accepted twice")
}

func TestRunGivesUpAfterMaxRetries(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_test")
	fake.fault = func(string, int) int { return http.StatusServiceUnavailable }
	cfg := runConfig(srv.URL)
	cfg.Visitors, cfg.MaxRetries = 5, 2

	res, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Positive(t, res.Sent)
	require.Equal(t, res.Sent, res.Failed)
	require.Zero(t, res.Accepted)
	require.Empty(t, res.AcceptedIDs)
	for _, bodies := range fake.attempts {
		require.Len(t, bodies, 3, "first attempt plus MaxRetries")
	}
	require.Equal(t, map[string]int{"HTTP 503": res.Failed}, res.Failures)
}

func TestRunDoesNotRetryRefusals(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_right")
	cfg := runConfig(srv.URL)
	cfg.SiteKey, cfg.Visitors = "pps_wrong", 3

	res, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Equal(t, res.Sent, res.Failed)
	require.Zero(t, res.Retries)
	require.Empty(t, fake.attempts)
	require.Len(t, res.Failures, 1)
	for reason := range res.Failures {
		require.True(t, strings.HasPrefix(reason, "HTTP 403: "), reason)
		require.Contains(t, reason, "unknown site key")
	}
}

// countingLimiter grants every request and counts the events it covers.
type countingLimiter struct {
	mu      sync.Mutex
	granted int
	maxN    int
}

func (l *countingLimiter) WaitN(ctx context.Context, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.granted += n
	l.maxN = max(l.maxN, n)
	return ctx.Err()
}

func (l *countingLimiter) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.granted
}

func TestRunRateLimiterCoversEveryEventSent(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_test")
	lim := &countingLimiter{}
	var overdrawn sync.Once
	fake.onEvents = func(received int) {
		if received > lim.total() {
			overdrawn.Do(func() { t.Errorf("%d events on the wire, only %d granted", received, lim.total()) })
		}
	}
	fake.fault = func(_ string, n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	cfg := runConfig(srv.URL)
	cfg.Limiter, cfg.Batch = lim, 13

	res, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Equal(t, fake.received, lim.total(), "retries take tokens too: the limit is on offered load")
	require.Equal(t, 2*res.Sent, lim.total())
	require.LessOrEqual(t, lim.maxN, cfg.Batch)
}

func TestRunDefaultRateLimiterAdmitsFullBatches(t *testing.T) {
	_, srv := newFakeIngest(t, "pps_test")
	cfg := runConfig(srv.URL)
	cfg.Rate, cfg.Batch = 1e9, 100
	res, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Zero(t, res.Failed, "%v", res.Failures)
	require.Equal(t, res.Sent, res.Accepted)
}

func TestRunIsDeterministicForASeed(t *testing.T) {
	run := func(seed int64) map[string]string {
		fake, srv := newFakeIngest(t, "pps_test")
		cfg := runConfig(srv.URL)
		cfg.Seed, cfg.Invalid = seed, 0.02
		_, err := Run(context.Background(), cfg, nil)
		require.NoError(t, err)
		out := map[string]string{}
		for key, bodies := range fake.attempts {
			out[key] = bodies[0]
		}
		return out
	}
	a, b := run(7), run(7)
	require.Equal(t, a, b)
	c := run(8)
	require.NotEqual(t, sortedKeys(a), sortedKeys(c))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestRunStopsAfterEvents(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_test")
	cfg := runConfig(srv.URL)
	cfg.Events = 137
	var bar strings.Builder
	res, err := Run(context.Background(), cfg, &bar)
	require.NoError(t, err)
	require.Equal(t, 137, res.Sent)
	require.Equal(t, 137, fake.received)
	require.Contains(t, bar.String(), "137/137")
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	fake, srv := newFakeIngest(t, "pps_test")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	fake.onEvents = func(received int) {
		if received > 50 {
			once.Do(cancel)
		}
	}
	cfg := runConfig(srv.URL)
	cfg.Visitors, cfg.Concurrency, cfg.Rate = 1000, 2, 0

	res, err := Run(ctx, cfg, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, res.Sent, 1000)
	require.Equal(t, res.Sent, res.Accepted+res.Rejected+res.Failed)
}

func TestRunRejectsBadConfig(t *testing.T) {
	cfg := testConfig()
	cfg.Visitors = 0
	_, err := Run(context.Background(), cfg, nil)
	require.ErrorIs(t, err, ErrConfig)
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		lat  []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of unsorted", ms(5, 1, 4, 2, 3), 0.5, 3 * time.Millisecond},
		{"p99 of 100", ms(rangeInts(1, 100)...), 0.99, 99 * time.Millisecond},
		{"p100", ms(3, 9, 1), 1, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Result{Latencies: tt.lat}.Percentile(tt.p))
		})
	}
}

func rangeInts(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}
