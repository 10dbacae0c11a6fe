package simulate

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestClassify(t *testing.T) {
	b := batch{events: []schemas.BeaconEvent{{EventID: "a"}, {EventID: "b"}}}
	tests := []struct {
		name         string
		code         int
		body         string
		wantRetry    bool
		wantProblem  bool
		wantAccepted int
		wantRejected int
	}{
		{"all accepted", 202, `{"accepted":2,"event_ids":["a","b"],"rejected":0}`, false, false, 2, 0},
		{"accepted, unreadable body", 202, `ok`, false, false, 2, 0},
		{"partly rejected", 400, `{"accepted":1,"event_ids":["a"],"rejected":1,"errors":[{"index":1,"field":"type","problem":"unknown"}]}`, false, false, 1, 1},
		{"400 without per-event answer", 400, `{"errors":[{"field":"","problem":"not json"}]}`, false, true, 0, 0},
		{"too large is final", 413, `too large`, false, true, 0, 0},
		{"forbidden is final", 403, `unknown site key`, false, true, 0, 0},
		{"unavailable is retried", 503, ``, true, true, 0, 0},
		{"too many requests is retried", 429, ``, true, true, 0, 0},
		{"server error is retried", 500, `boom`, true, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := classify(attempt{}, &http.Response{StatusCode: tt.code, Header: http.Header{}}, []byte(tt.body), b)
			require.Equal(t, tt.wantRetry, a.retry)
			require.Equal(t, tt.wantProblem, a.problem != "", a.problem)
			o := outcome{events: 2, sent: true}.settle(a, b)
			if !tt.wantRetry {
				require.Equal(t, tt.wantAccepted, o.accepted)
				require.Equal(t, tt.wantRejected, o.rejected)
				require.Equal(t, 2, o.accepted+o.rejected+o.failed)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	require.Equal(t, 3*time.Second, parseRetryAfter("3", now))
	require.Equal(t, 10*time.Second, parseRetryAfter(now.Add(10*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("", now))
	require.Zero(t, parseRetryAfter("soon", now))
	require.Zero(t, parseRetryAfter("-1", now))
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	s := &sender{retryBase: 100 * time.Millisecond, retryMax: time.Second}
	for n := 0; n < 30; n++ {
		d := s.backoff(n, 0)
		require.GreaterOrEqual(t, d, min(s.retryBase<<min(n, 20)/2, s.retryMax))
		require.LessOrEqual(t, d, s.retryMax)
	}
	require.GreaterOrEqual(t, s.backoff(0, 800*time.Millisecond), 800*time.Millisecond, "waits at least what Retry-After asks")
	require.Equal(t, time.Second, s.backoff(0, time.Hour), "Retry-After is capped")
}
