package automation

import (
	"sort"
	"time"
	_ "time/tzdata" // quiet hours are in the subscriber's zone whatever the host's tzdata
)

// Quiet-hours modes.
const (
	QuietHold = "hold" // hold the push until the quiet window ends
	QuietDrop = "drop" // never send it
)

// Drop reasons of a Decision.
const (
	DropExpired      = "expired"
	DropQuietHours   = "quiet_hours"
	DropFrequencyCap = "frequency_cap"
)

// Policy is a site's delivery policy, applied to campaigns and automations
// alike at the moment of sending.
type Policy struct {
	CapCount        int           // at most CapCount pushes per subscriber per CapWindow; 0: no cap
	CapWindow       time.Duration // rolling window of the cap
	QuietStart      int           // minutes after local midnight; QuietStart == QuietEnd: no quiet hours
	QuietEnd        int           // may be before QuietStart: the window spans midnight
	QuietMode       string        // QuietHold or QuietDrop
	DefaultTimezone string        // for subscribers whose timezone is unknown; "" or invalid: UTC
}

// Decision is what to do with a push now: send it, hold it until
// HoldUntil, or drop it for the reason Drop.
type Decision struct {
	Send      bool
	HoldUntil time.Time // non-zero: try again then
	Drop      string    // non-empty: the reason; never send
}

// maxRounds bounds the alternation of quiet hours and cap when looking for
// the first instant both allow.
const maxRounds = 8

// Decide applies the policy to a push due at now for a subscriber in
// timezone (an IANA name; "" or unknown: the default), who was sent
// recentSends. A push past notAfter (when non-zero) is dropped "expired";
// one in quiet hours is held until they end (or dropped "quiet_hours" in
// drop mode, or when they end after notAfter); one over the frequency cap
// (CapCount sends in (now-CapWindow, now]) is held until enough sends leave
// the window, or dropped "frequency_cap" when that is after notAfter.
func (p Policy) Decide(now time.Time, timezone string, recentSends []time.Time, notAfter time.Time) Decision {
	if !notAfter.IsZero() && now.After(notAfter) {
		return Decision{Drop: DropExpired}
	}
	loc := p.location(timezone)
	sends := sortedTimes(recentSends)
	t := now
	for range maxRounds {
		quietEnd, quiet := p.quietUntil(t, loc)
		if quiet {
			if p.QuietMode == QuietDrop || (!notAfter.IsZero() && quietEnd.After(notAfter)) {
				return Decision{Drop: DropQuietHours}
			}
			t = quietEnd
			continue
		}
		capEnd, capped := p.capUntil(t, sends)
		if capped {
			if !notAfter.IsZero() && capEnd.After(notAfter) {
				return Decision{Drop: DropFrequencyCap}
			}
			t = capEnd
			continue
		}
		if t.Equal(now) {
			return Decision{Send: true}
		}
		return Decision{HoldUntil: t}
	}
	return Decision{HoldUntil: t}
}

// location is the subscriber's zone, else the default, else UTC.
func (p Policy) location(timezone string) *time.Location {
	for _, name := range []string{timezone, p.DefaultTimezone} {
		if name == "" {
			continue
		}
		if loc, err := LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.UTC
}

// quietUntil reports whether t falls in the quiet window in loc and, if
// so, the instant the window ends.
func (p Policy) quietUntil(t time.Time, loc *time.Location) (time.Time, bool) {
	start, end := p.QuietStart, p.QuietEnd
	if start == end || start < 0 || end < 0 || start >= 24*60 || end >= 24*60 {
		return time.Time{}, false
	}
	local := t.In(loc)
	minute := local.Hour()*60 + local.Minute()
	y, m, d := local.Date()
	switch {
	case start < end && minute >= start && minute < end:
		// same day
	case start > end && minute >= start:
		d++ // the window ends tomorrow
	case start > end && minute < end:
		// started yesterday, ends today
	default:
		return time.Time{}, false
	}
	until := time.Date(y, m, d, end/60, end%60, 0, 0, loc)
	if !until.After(t) { // a DST gap moved the end before t: leave an hour later
		until = t.Add(time.Hour).Truncate(time.Minute)
	}
	return until, true
}

// capUntil reports whether the cap is reached at t (sends sorted) and, if
// so, when enough sends leave the window for one more.
func (p Policy) capUntil(t time.Time, sends []time.Time) (time.Time, bool) {
	if p.CapCount <= 0 || p.CapWindow <= 0 {
		return time.Time{}, false
	}
	from := t.Add(-p.CapWindow)
	lo := sort.Search(len(sends), func(i int) bool { return sends[i].After(from) })
	hi := sort.Search(len(sends), func(i int) bool { return sends[i].After(t) })
	counted := sends[lo:hi]
	if len(counted) < p.CapCount {
		return time.Time{}, false
	}
	// The send that must leave for the count to drop below the cap.
	return counted[len(counted)-p.CapCount].Add(p.CapWindow), true
}

func sortedTimes(ts []time.Time) []time.Time {
	out := append([]time.Time(nil), ts...)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}
