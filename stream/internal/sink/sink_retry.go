package sink

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// backoff is a capped exponential delay between attempts of one operation.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(lo, hi time.Duration) *backoff {
	return &backoff{min: lo, max: hi, next: lo}
}

// wait sleeps for the current delay, doubles it up to the cap, and reports
// false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(2*b.next, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (b *backoff) reset() { b.next = b.min }

// retryLogEvery is how many failed attempts pass between two "still failing" lines.
const retryLogEvery = 10

// retry runs op until it succeeds or ctx ends, each attempt bounded by
// s.cfg.AttemptTimeout and separated by a capped exponential backoff. It logs
// the first failure, every retryLogEvery-th one and the recovery, never each
// attempt. It returns nil on success, else ctx's cause with the last error.
func (s *Sink) retry(ctx context.Context, what string, attrs []any, op func(context.Context) error) error {
	b := newBackoff(s.cfg.RetryMin, s.cfg.RetryMax)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
		err := op(actx)
		cancel()
		if err == nil {
			if attempt > 1 {
				s.log.Info(what+" succeeded after retries", append(slices.Clip(attrs), "attempts", attempt)...)
			}
			return nil
		}
		s.logFailure(what, attempt, err, attrs)
		if !b.wait(ctx) {
			return &retryError{what: what, cause: context.Cause(ctx), last: err}
		}
	}
}

func (s *Sink) logFailure(what string, attempt int, err error, attrs []any) {
	if attempt != 1 && attempt%retryLogEvery != 0 {
		return
	}
	lvl, msg := slog.LevelWarn, what+" failed; retrying with backoff"
	if attempt > 1 {
		lvl, msg = slog.LevelError, what+" still failing"
	}
	s.log.Log(context.Background(), lvl, msg, append(slices.Clip(attrs), "attempts", attempt, "err", err)...)
}

// retryError is what retry returns when it gave up: the reason it stopped
// (errors.Is finds ErrDrainBudget or context.Canceled) and the last failure.
type retryError struct {
	what  string
	cause error
	last  error
}

func (e *retryError) Error() string {
	return e.what + ": gave up (" + e.cause.Error() + "); last error: " + e.last.Error()
}

func (e *retryError) Unwrap() []error { return []error{e.cause, e.last} }
