package enrich

import (
	"fmt"
	"time"
)

// Time limits of an event, after clock-skew correction.
const (
	MaxFuture = time.Minute        // later than server time + MaxFuture: clamped to server time
	MaxAge    = 7 * 24 * time.Hour // earlier than server time - MaxAge: refused
)

// Clock corrects the event times of one beacon for the browser's clock skew:
// the difference between the server's clock when the beacon arrived and the
// browser's clock when it was sent (sent_at).
type Clock struct {
	server time.Time
	skew   time.Duration
}

// NewClock returns the clock of a beacon received at server whose browser
// clock read sentAtMS (epoch ms) when it was sent; 0 means not given (no correction).
func NewClock(server time.Time, sentAtMS int64) Clock {
	c := Clock{server: server.UTC().Truncate(time.Millisecond)}
	if sentAtMS > 0 {
		c.skew = c.server.Sub(time.UnixMilli(sentAtMS))
	}
	return c
}

// Server is when the beacon arrived, to the millisecond.
func (c Clock) Server() time.Time { return c.server }

// Skew is how far the browser's clock is behind the server's (negative: ahead).
func (c Clock) Skew() time.Duration { return c.skew }

// Times returns when an event stamped tsMS (browser epoch ms; 0 when not
// given) happened by the server's clock, and the browser's own reading. The
// problem is non-empty when the event is too old to accept.
func (c Clock) Times(tsMS int64) (when, client time.Time, problem string) {
	if tsMS == 0 {
		return c.server, c.server, ""
	}
	client = time.UnixMilli(tsMS).UTC()
	when = client.Add(c.skew)
	if when.After(c.server.Add(MaxFuture)) {
		when = c.server
	}
	if age := c.server.Sub(when); age > MaxAge {
		return time.Time{}, time.Time{}, fmt.Sprintf("is %s in the past after clock-skew correction; events older than %s are refused",
			roundAge(age), roundAge(MaxAge))
	}
	return when, client, ""
}

func roundAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int64(d/(24*time.Hour)))
	}
	return d.Round(time.Second).String()
}
