package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// limiterIdle is how long a principal's bucket is kept after its last request.
const limiterIdle = 10 * time.Minute

// limiter is a token bucket per principal (or client address).
type limiter struct {
	mu        sync.Mutex
	every     rate.Limit
	burst     int
	now       func() time.Time
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newLimiter allows perMinute requests a minute per key with bursts of
// burst; perMinute <= 0 is no limit (nil).
func newLimiter(perMinute, burst int, now func() time.Time) *limiter {
	if perMinute <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &limiter{every: rate.Limit(float64(perMinute) / 60), burst: burst, now: now, buckets: map[string]*bucket{}}
}

// wait returns how long key must wait before its next request, 0 when the
// request may go now (and is counted).
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// sweep forgets idle buckets, at most once a minute.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) > limiterIdle {
			delete(l.buckets, k)
		}
	}
}

// rateLimit answers 429 with Retry-After (whole seconds) when the key of
// the request has used up its budget; a nil limiter lets everything through.
func rateLimit(l *limiter, keyOf func(c *gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l == nil {
			c.Next()
			return
		}
		if d := l.wait(keyOf(c)); d > 0 {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			refuse(c, http.StatusTooManyRequests, Problem{"", "too many requests: retry after the number of seconds in the Retry-After header"})
			return
		}
		c.Next()
	}
}

// byPrincipal keys the rate limit by the authenticated principal.
func byPrincipal(c *gin.Context) string { return actor(c) }

// byClient keys the rate limit by the client's address.
func byClient(c *gin.Context) string { return "ip:" + c.ClientIP() }
