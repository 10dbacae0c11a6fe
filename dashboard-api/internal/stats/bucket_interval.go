package stats

import "time"

// Interval is the width of a time bucket.
type Interval string

// The intervals the dashboard offers.
const (
	Hour  Interval = "hour"
	Day   Interval = "day"
	Week  Interval = "week" // weeks start on Monday, as ClickHouse's toStartOfInterval counts them
	Month Interval = "month"
)

// Intervals lists the valid intervals, narrowest first.
func Intervals() []Interval { return []Interval{Hour, Day, Week, Month} }

// ParseInterval returns the interval named s.
func ParseInterval(s string) (Interval, bool) {
	for _, iv := range Intervals() {
		if string(iv) == s {
			return iv, true
		}
	}
	return "", false
}

// sqlInterval is the ClickHouse INTERVAL literal: a fixed string per
// interval, never built from user input.
func (iv Interval) sqlInterval() string {
	switch iv {
	case Hour:
		return "INTERVAL 1 HOUR"
	case Week:
		return "INTERVAL 1 WEEK"
	case Month:
		return "INTERVAL 1 MONTH"
	default:
		return "INTERVAL 1 DAY"
	}
}

// Start returns the start of the bucket holding t, in loc: the local hour,
// midnight, Monday midnight or first of the month.
func (iv Interval) Start(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	switch iv {
	case Hour:
		// Whole hours since the local midnight, as ClickHouse counts them:
		// half-hour zones get their local hours, and the hour repeated when
		// clocks go back is a bucket of its own.
		day := Day.Start(t, loc)
		return day.Add(t.Sub(day).Truncate(time.Hour))
	case Week:
		y, m, d := t.Date()
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case Month:
		y, m, _ := t.Date()
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	default:
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
}

// next returns the start of the bucket after the one starting at start.
func (iv Interval) next(start time.Time, loc *time.Location) time.Time {
	y, m, d := start.Date()
	switch iv {
	case Hour:
		return iv.Start(start.Add(time.Hour), loc)
	case Week:
		return iv.Start(time.Date(y, m, d+7, 12, 0, 0, 0, loc), loc)
	case Month:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	default:
		return iv.Start(time.Date(y, m, d+1, 12, 0, 0, 0, loc), loc)
	}
}

// Buckets lists the starts of every bucket that overlaps [from, to), the
// first one possibly starting before from. ok is false when there would be
// more than limit buckets (the list is then cut at limit+1).
func Buckets(from, to time.Time, iv Interval, loc *time.Location, limit int) (starts []time.Time, ok bool) {
	for b := iv.Start(from, loc); b.Before(to); b = iv.next(b, loc) {
		if len(starts) == limit {
			return append(starts, b), false
		}
		starts = append(starts, b)
	}
	return starts, true
}
