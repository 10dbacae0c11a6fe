package sender

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// Reasons of push_failed and subscription_expired events.
const (
	ReasonTooLarge       = "too_large"            // the encrypted body exceeds 4096 bytes, or the service answered 413
	ReasonConfig         = "config_error"         // 400/401/403: VAPID key, claims or request refused
	ReasonExpired        = "expired"              // TTL or not_after passed before a delivery succeeded
	ReasonUnexpected     = "unexpected_status"    // an answer the protocol does not define
	ReasonInvalidRequest = "invalid_request"      // the push request itself is malformed
	ReasonUnknownSite    = "unknown_site"         // no such site in the control plane
	ReasonEncrypt        = "invalid_subscription" // the subscription's keys do not encrypt
	ReasonGone           = "gone"                 // 410
	ReasonNotFound       = "not_found"            // 404
)

// ErrTooLarge means a payload does not fit a push message.
var ErrTooLarge = errors.New("payload too large")

// attempt is what one HTTP exchange with the push service gave.
type attempt struct {
	Status     int           // 0: no answer (err is set)
	RetryAfter time.Duration // from a Retry-After header; 0: none
	Err        error         // transport error or timeout; nil when Status is set
	Fatal      string        // reason when Err is one no retry fixes (keys that do not encrypt)
	Latency    time.Duration
}

// outcome is the final result of a push request.
type outcome struct {
	Type     schemas.EventType
	Reason   string
	Status   int
	Attempts int
	Latency  time.Duration // of the last attempt
}

// verdict is what to do after an attempt.
type verdict int

const (
	verdictSent verdict = iota
	verdictGone
	verdictFail
	verdictRetry
)

// classify maps an attempt to what happens next, and the reason for a failure.
func classify(a attempt) (verdict, string) {
	if a.Fatal != "" {
		return verdictFail, a.Fatal
	}
	if a.Err != nil {
		return verdictRetry, ""
	}
	switch s := a.Status; {
	case s == http.StatusCreated || s == http.StatusOK || s == http.StatusAccepted:
		return verdictSent, ""
	case s == http.StatusNotFound:
		return verdictGone, ReasonNotFound
	case s == http.StatusGone:
		return verdictGone, ReasonGone
	case s == http.StatusRequestEntityTooLarge:
		return verdictFail, ReasonTooLarge
	case s == http.StatusBadRequest || s == http.StatusUnauthorized || s == http.StatusForbidden:
		return verdictFail, ReasonConfig
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		return verdictRetry, ""
	default:
		return verdictFail, ReasonUnexpected
	}
}

// checkSize fails with ErrTooLarge, naming the limit and the size, when
// payload would not fit one push message with the configured padding.
func (c Config) checkSize(payload []byte) error {
	if body := c.recordSize(len(payload)); body > MaxBody {
		return fmt.Errorf("%w: encrypted body would be %d bytes (payload %d + %d of encryption), the limit is %d bytes",
			ErrTooLarge, body, len(payload), overhead, MaxBody)
	}
	return nil
}

// backoff is the wait before attempt n+1 (n >= 1): exponential from base,
// capped at limit, with full jitter in its upper half; a Retry-After
// longer than that wins.
func backoff(n int, base, limit, retryAfter time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// errStopped means delivery was abandoned because the sender is stopping:
// nothing is recorded and the message is not committed.
var errStopped = errors.New("sender stopping")

// pushFunc makes one attempt to deliver req with the given TTL header.
type pushFunc func(ctx context.Context, ttl int) attempt

// retryLoop attempts until a final answer, or the deadline passes. It
// waits between attempts on stop, so a stopping sender does not wait out
// a backoff; it returns errStopped then.
func (c Config) retryLoop(ctx, stop context.Context, req *schemas.PushRequest, push pushFunc) (outcome, error) {
	deadline := req.Deadline()
	for n := 1; ; n++ {
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return outcome{Type: schemas.EventPushFailed, Reason: ReasonExpired, Attempts: n - 1}, nil
		}
		a := push(ctx, remainingTTL(req, now))
		if a.Err != nil && (ctx.Err() != nil || errors.Is(a.Err, errStopped)) {
			return outcome{}, errStopped // cancelled by the drain, not the push service's doing
		}
		if errors.Is(a.Err, errWaitExpired) {
			return outcome{Type: schemas.EventPushFailed, Reason: ReasonExpired, Attempts: n - 1}, nil
		}
		v, reason := classify(a)
		out := outcome{Status: a.Status, Attempts: n, Latency: a.Latency, Reason: reason}
		switch v {
		case verdictSent:
			out.Type = schemas.EventPushSent
			return out, nil
		case verdictGone:
			out.Type = schemas.EventSubscriptionExpired
			return out, nil
		case verdictFail:
			out.Type = schemas.EventPushFailed
			return out, nil
		}
		wait := backoff(n, c.RetryBase, c.RetryMax, a.RetryAfter)
		if deadline.IsZero() || !time.Now().Add(wait).Before(deadline) {
			out.Type, out.Reason = schemas.EventPushFailed, ReasonExpired
			return out, nil
		}
		if err := sleep(stop, wait); err != nil {
			return outcome{}, errStopped
		}
	}
}

// remainingTTL is the TTL header for an attempt at now: what is left of
// the request's TTL, and never beyond not_after.
func remainingTTL(req *schemas.PushRequest, now time.Time) int {
	ttl := req.TTLSeconds
	if ttl > 0 && !req.CreatedAt.IsZero() {
		ttl -= int(now.Sub(req.CreatedAt) / time.Second)
	}
	if !req.NotAfter.IsZero() {
		ttl = min(ttl, int(req.NotAfter.Sub(now)/time.Second))
	}
	return max(ttl, 0)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// host is the push service's host of an endpoint, for events and logs.
func host(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}
