package sender

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		a       attempt
		verdict verdict
		reason  string
	}{
		{attempt{Status: 201}, verdictSent, ""},
		{attempt{Status: 200}, verdictSent, ""},
		{attempt{Status: 404}, verdictGone, ReasonNotFound},
		{attempt{Status: 410}, verdictGone, ReasonGone},
		{attempt{Status: 413}, verdictFail, ReasonTooLarge},
		{attempt{Status: 400}, verdictFail, ReasonConfig},
		{attempt{Status: 401}, verdictFail, ReasonConfig},
		{attempt{Status: 403}, verdictFail, ReasonConfig},
		{attempt{Status: 429}, verdictRetry, ""},
		{attempt{Status: 500}, verdictRetry, ""},
		{attempt{Status: 503}, verdictRetry, ""},
		{attempt{Status: 302}, verdictFail, ReasonUnexpected},
		{attempt{Err: errors.New("connection refused")}, verdictRetry, ""},
		{attempt{Err: errors.New("bad key"), Fatal: ReasonEncrypt}, verdictFail, ReasonEncrypt},
	}
	for _, tt := range tests {
		v, r := classify(tt.a)
		require.Equal(t, tt.verdict, v, "status %d err %v", tt.a.Status, tt.a.Err)
		require.Equal(t, tt.reason, r, "status %d", tt.a.Status)
	}
}

func TestCheckSize(t *testing.T) {
	require.NoError(t, Config{}.checkSize(make([]byte, MaxBody-overhead)))
	err := Config{}.checkSize(make([]byte, MaxBody-overhead+1))
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "4097 bytes")
	require.Contains(t, err.Error(), "limit is 4096 bytes")
}

func TestBackoff(t *testing.T) {
	for n := 1; n <= 12; n++ {
		full := min(time.Second<<(n-1), time.Minute)
		d := backoff(n, time.Second, time.Minute, 0)
		require.GreaterOrEqual(t, d, full/2, "attempt %d", n)
		require.LessOrEqual(t, d, full, "attempt %d", n)
	}
	require.Equal(t, 30*time.Second, backoff(1, time.Second, time.Minute, 30*time.Second), "Retry-After wins when longer")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 7*time.Second, parseRetryAfter("7", now))
	require.Equal(t, time.Minute, parseRetryAfter(now.Add(time.Minute).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("", now))
	require.Zero(t, parseRetryAfter("soon", now))
}

// scripted is a pushFunc answering in order, recording the TTLs it was given.
type scripted struct {
	answers []attempt
	ttls    []int
}

func (s *scripted) push(_ context.Context, ttl int) attempt {
	s.ttls = append(s.ttls, ttl)
	a := s.answers[0]
	if len(s.answers) > 1 {
		s.answers = s.answers[1:]
	}
	return a
}

func TestRetryLoop(t *testing.T) {
	cfg := Config{RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond}
	now := time.Now()
	fresh := func(ttl int) *schemas.PushRequest {
		return &schemas.PushRequest{TTLSeconds: ttl, CreatedAt: now}
	}
	tests := []struct {
		name    string
		req     *schemas.PushRequest
		answers []attempt
		want    outcome
	}{
		{"sent first time", fresh(60), []attempt{{Status: 201}}, outcome{Type: schemas.EventPushSent, Status: 201, Attempts: 1}},
		{"gone is never retried", fresh(60), []attempt{{Status: 410}}, outcome{Type: schemas.EventSubscriptionExpired, Reason: ReasonGone, Status: 410, Attempts: 1}},
		{"too large is never retried", fresh(60), []attempt{{Status: 413}}, outcome{Type: schemas.EventPushFailed, Reason: ReasonTooLarge, Status: 413, Attempts: 1}},
		{"429 then 500 then sent", fresh(60), []attempt{{Status: 429}, {Status: 500}, {Status: 201}}, outcome{Type: schemas.EventPushSent, Status: 201, Attempts: 3}},
		{"timeouts then sent", fresh(60), []attempt{{Err: context.DeadlineExceeded}, {Status: 201}}, outcome{Type: schemas.EventPushSent, Status: 201, Attempts: 2}},
		{"retry-after beyond the ttl gives up", fresh(2), []attempt{{Status: 429, RetryAfter: time.Hour}}, outcome{Type: schemas.EventPushFailed, Reason: ReasonExpired, Status: 429, Attempts: 1}},
		{"ttl 0: one attempt only", fresh(0), []attempt{{Status: 503}}, outcome{Type: schemas.EventPushFailed, Reason: ReasonExpired, Status: 503, Attempts: 1}},
		{"not_after passed: not sent", &schemas.PushRequest{TTLSeconds: 60, CreatedAt: now, NotAfter: now.Add(-time.Second)}, nil, outcome{Type: schemas.EventPushFailed, Reason: ReasonExpired}},
		{"ttl passed: not sent", &schemas.PushRequest{TTLSeconds: 1, CreatedAt: now.Add(-time.Minute)}, nil, outcome{Type: schemas.EventPushFailed, Reason: ReasonExpired}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{answers: append(tt.answers, attempt{Status: 599})}
			got, err := cfg.retryLoop(context.Background(), context.Background(), tt.req, s.push)
			require.NoError(t, err)
			got.Latency = 0
			require.Equal(t, tt.want, got)
			require.Len(t, s.ttls, tt.want.Attempts, "push service called once per attempt")
		})
	}
}

func TestRetryLoopStops(t *testing.T) {
	cfg := Config{RetryBase: time.Hour, RetryMax: time.Hour}
	stop, cancel := context.WithCancel(context.Background())
	req := &schemas.PushRequest{TTLSeconds: 86400, CreatedAt: time.Now()}
	s := &scripted{answers: []attempt{{Status: 500}}}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := cfg.retryLoop(context.Background(), stop, req, s.push)
	require.ErrorIs(t, err, errStopped, "a stopping sender abandons the backoff instead of recording a result")
}

func TestRemainingTTL(t *testing.T) {
	now := time.Now()
	req := &schemas.PushRequest{TTLSeconds: 100, CreatedAt: now.Add(-30 * time.Second)}
	require.Equal(t, 70, remainingTTL(req, now))
	req.NotAfter = now.Add(10 * time.Second)
	require.Equal(t, 10, remainingTTL(req, now))
	req.NotAfter = now.Add(-time.Second)
	require.Equal(t, 0, remainingTTL(req, now))
}

func TestSubscriber(t *testing.T) {
	require.Equal(t, "ops@shop.example", vapidKeys{Contact: "mailto:ops@shop.example"}.subscriber(), "webpush-go adds mailto: itself")
	require.True(t, strings.HasPrefix(vapidKeys{Contact: "https://shop.example"}.subscriber(), "https:"))
}
