package sender

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOriginBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	l := newOriginLimiter(Config{Concurrency: 4, RetryBase: time.Hour, RetryMax: time.Hour})
	for range breakerAfter - 1 {
		l.report("slow.example", verdictRetry, 0)
	}
	require.False(t, l.open("slow.example"), "a few failures do not open it")
	l.report("slow.example", verdictSent, 0)
	for range breakerAfter - 1 {
		l.report("slow.example", verdictRetry, 0)
	}
	require.False(t, l.open("slow.example"), "a success in between resets the count")
	l.report("slow.example", verdictRetry, 0)
	require.True(t, l.open("slow.example"))
	require.False(t, l.open("fast.example"), "other origins are not affected")

	_, err := l.acquire(context.Background(), "slow.example", time.Now().Add(time.Minute))
	require.ErrorIs(t, err, errWaitExpired, "the cooldown outlasts the request")
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.acquire(stop, "slow.example", time.Time{})
	require.ErrorIs(t, err, errStopped)
	release, err := l.acquire(context.Background(), "fast.example", time.Time{})
	require.NoError(t, err)
	release()

	l.report("slow.example", verdictGone, 0)
	require.False(t, l.open("slow.example"), "an answer that is not a retryable failure closes it")
}

func TestOriginBreakerHonoursRetryAfter(t *testing.T) {
	l := newOriginLimiter(Config{Concurrency: 4, RetryBase: time.Millisecond, RetryMax: time.Millisecond})
	for range breakerAfter {
		l.report("busy.example", verdictRetry, 50*time.Millisecond)
	}
	require.True(t, l.open("busy.example"))
	start := time.Now()
	release, err := l.acquire(context.Background(), "busy.example", time.Time{})
	require.NoError(t, err)
	release()
	require.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "no attempt before the Retry-After")
}

func TestOriginSlotsLeaveRoomForOthers(t *testing.T) {
	l := newOriginLimiter(Config{Concurrency: 4, RetryBase: time.Millisecond, RetryMax: time.Millisecond})
	for range 2 { // half of 4
		_, err := l.acquire(context.Background(), "hanging.example", time.Time{})
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := l.acquire(ctx, "hanging.example", time.Time{})
	require.ErrorIs(t, err, errStopped, "a third attempt to the same origin waits")
	release, err := l.acquire(context.Background(), "other.example", time.Time{})
	require.NoError(t, err, "another origin still gets a slot")
	release()
}

func TestOriginRateCapsAttemptsPerHost(t *testing.T) {
	// 5 per second, burst 5: five attempts go at once, the sixth must wait
	// about 200 ms, which a deadline 1 ms away does not allow; another host
	// has a bucket of its own.
	l := newOriginLimiter(Config{Concurrency: 100, HostRate: 5, RetryBase: time.Millisecond, RetryMax: time.Millisecond})
	ctx := context.Background()
	for range 5 {
		release, err := l.acquire(ctx, "https://a.example", time.Time{})
		require.NoError(t, err)
		release()
	}
	_, err := l.acquire(ctx, "https://a.example", time.Now().Add(time.Millisecond))
	require.ErrorIs(t, err, errWaitExpired)
	release, err := l.acquire(ctx, "https://b.example", time.Now().Add(time.Millisecond))
	require.NoError(t, err, "hosts are paced separately")
	release()

	unlimited := newOriginLimiter(Config{Concurrency: 100, RetryBase: time.Millisecond, RetryMax: time.Millisecond})
	for range 50 {
		release, err := unlimited.acquire(ctx, "https://a.example", time.Now().Add(time.Millisecond))
		require.NoError(t, err, "HostRate 0 means no cap")
		release()
	}
}
