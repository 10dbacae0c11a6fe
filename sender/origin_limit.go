package sender

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Per-origin limits, so one slow or failing push service does not stall
// deliveries to the others:
//
//   - at most Config.HostRate attempts per second to one origin (a token
//     bucket with a burst of one second's worth; 0: no cap);
//   - at most perOrigin attempts in flight to one origin (half the active
//     slots), so an origin whose requests hang until the timeout leaves
//     the other half to everyone else;
//   - a circuit breaker: after breakerAfter consecutive retryable failures
//     (429, 5xx, timeouts, connection errors) the origin is open: no
//     attempt is made to it until the cooldown (exponential from
//     Config.RetryBase, capped at Config.RetryMax, or the Retry-After of a
//     429/503 when longer) passes; the next answer that is not a retryable
//     failure closes it. Requests waiting on a breaker hold no active slot.
const breakerAfter = 5

// errWaitExpired means the request's deadline passed while its origin was open.
var errWaitExpired = errors.New("deadline passed while waiting for the push service (circuit open or rate cap)")

type originLimiter struct {
	cfg       Config
	perOrigin int
	mu        sync.Mutex
	m         map[string]*originState
}

type originState struct {
	rate      *rate.Limiter // nil: no cap
	slots     chan struct{}
	fails     int
	openUntil time.Time
}

func newOriginLimiter(cfg Config) *originLimiter {
	return &originLimiter{cfg: cfg, perOrigin: max(1, cfg.Concurrency/2), m: map[string]*originState{}}
}

func (l *originLimiter) state(origin string) *originState {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.m[origin]
	if s == nil {
		s = &originState{slots: make(chan struct{}, l.perOrigin)}
		if l.cfg.HostRate > 0 {
			s.rate = rate.NewLimiter(rate.Limit(l.cfg.HostRate), max(1, int(l.cfg.HostRate)))
		}
		l.m[origin] = s
	}
	return s
}

// acquire waits for the origin's circuit to close (not beyond deadline,
// when set) and for one of its slots; release gives the slot back.
func (l *originLimiter) acquire(stop context.Context, origin string, deadline time.Time) (release func(), err error) {
	s := l.state(origin)
	for {
		l.mu.Lock()
		wait := time.Until(s.openUntil)
		l.mu.Unlock()
		if wait <= 0 {
			break
		}
		if !deadline.IsZero() && time.Now().Add(wait).After(deadline) {
			return nil, errWaitExpired
		}
		if err := sleep(stop, wait); err != nil {
			return nil, errStopped
		}
	}
	if err := s.pace(stop, deadline); err != nil {
		return nil, err
	}
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	case <-stop.Done():
		return nil, errStopped
	}
}

// pace waits for the origin's token bucket, failing at once when the
// wait would pass the deadline.
func (s *originState) pace(stop context.Context, deadline time.Time) error {
	if s.rate == nil {
		return nil
	}
	r := s.rate.Reserve()
	wait := r.Delay()
	if wait <= 0 {
		return nil
	}
	if !deadline.IsZero() && time.Now().Add(wait).After(deadline) {
		r.Cancel()
		return errWaitExpired
	}
	if err := sleep(stop, wait); err != nil {
		r.Cancel()
		return errStopped
	}
	return nil
}

// report feeds an attempt's verdict to the origin's breaker.
func (l *originLimiter) report(origin string, v verdict, retryAfter time.Duration) {
	s := l.state(origin)
	l.mu.Lock()
	defer l.mu.Unlock()
	if v != verdictRetry {
		s.fails, s.openUntil = 0, time.Time{}
		return
	}
	s.fails++
	if s.fails < breakerAfter {
		return
	}
	cool := l.cfg.RetryBase
	for i := breakerAfter; i < s.fails && cool < l.cfg.RetryMax; i++ {
		cool *= 2
	}
	cool = max(min(cool, l.cfg.RetryMax), retryAfter)
	if until := time.Now().Add(cool); until.After(s.openUntil) {
		s.openUntil = until
	}
}

// open reports whether the origin's circuit is open now (for tests and Stats).
func (l *originLimiter) open(origin string) bool {
	s := l.state(origin)
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(s.openUntil)
}
