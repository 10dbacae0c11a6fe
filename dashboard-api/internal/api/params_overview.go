package api

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// Limits of a stats query.
const (
	MaxBuckets   = 1000               // more would be unreadable and slow; pick a wider interval
	DefaultRange = 7 * 24 * time.Hour // when from is not given: the week before to
	minYear      = 1970               // events carry no earlier times
	maxYear      = 2199               // ClickHouse DateTime64 ends in 2299; leave room for buckets
)

var overviewParams = []string{"from", "to", "interval", "tz"}

// parseOverview reads and checks the query parameters of the overview,
// reporting every problem at once.
func parseOverview(values url.Values, siteID string, now time.Time) (stats.OverviewQuery, []Problem) {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	get := single(values, add)
	for _, k := range sortedKeys(values) {
		if !contains(overviewParams, k) {
			add(k, "unknown parameter; this endpoint takes %s", strings.Join(overviewParams, ", "))
		}
	}
	q := stats.OverviewQuery{SiteID: siteID, Interval: stats.Day, Location: time.UTC}
	if s, ok := get("tz"); ok {
		if loc, err := loadZone(s); err != nil {
			add("tz", "%q is not a known time zone; use an IANA name such as Europe/Berlin or UTC", s)
		} else {
			q.Location = loc
		}
	}
	if s, ok := get("interval"); ok {
		if iv, valid := stats.ParseInterval(s); valid {
			q.Interval = iv
		} else {
			add("interval", "%q is not an interval; use one of hour, day, week, month", s)
		}
	}
	from, fromOK := parseTime(get, add, "from")
	to, toOK := parseTime(get, add, "to")
	q.To = now.Truncate(time.Millisecond)
	if toOK {
		q.To = to
	}
	q.From = q.To.Add(-DefaultRange)
	if fromOK {
		q.From = from
	}
	if len(probs) > 0 {
		return q, probs
	}
	return q, checkRange(&q)
}

// checkRange checks from < to and the bucket count, filling q.Buckets.
func checkRange(q *stats.OverviewQuery) []Problem {
	if !q.From.Before(q.To) {
		return []Problem{{"from", "must be before to"}}
	}
	buckets, ok := stats.Buckets(q.From, q.To, q.Interval, q.Location, MaxBuckets)
	if !ok {
		return []Problem{{"interval", fmt.Sprintf("%s buckets from %s to %s would be more than %d; choose a wider interval or a shorter range",
			q.Interval, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), MaxBuckets)}}
	}
	q.Buckets = buckets
	return nil
}

// single returns a getter of a parameter that may be given at most once.
func single(values url.Values, add func(field, format string, args ...any)) func(string) (string, bool) {
	return func(key string) (string, bool) {
		vs := values[key]
		switch {
		case len(vs) == 0 || (len(vs) == 1 && vs[0] == ""):
			return "", false
		case len(vs) > 1:
			add(key, "is given %d times; give it once", len(vs))
			return "", false
		}
		return vs[0], true
	}
}

func parseTime(get func(string) (string, bool), add func(field, format string, args ...any), key string) (time.Time, bool) {
	s, ok := get(key)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		add(key, "%q is not an RFC 3339 time such as 2025-05-01T00:00:00Z (mind that + must be sent as %%2B)", s)
		return time.Time{}, false
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		add(key, "must be between %d and %d", minYear, maxYear)
		return time.Time{}, false
	}
	return t.Truncate(time.Millisecond), true
}

// loadZone loads an IANA zone; "Local" (the server's zone) is refused, as
// the answer would depend on where the server runs.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, fmt.Errorf("time zone %q is not allowed", name)
	}
	return time.LoadLocation(name)
}

func sortedKeys(values url.Values) []string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
