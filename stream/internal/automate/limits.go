package automate

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// limits are the dispatcher's token buckets: one over all sites
// (PUSHPIPE_SEND_RATE) and one per site (send_rate_per_minute). A row
// without a token waits until one is expected. Owned by the dispatcher.
type limits struct {
	global *rate.Limiter // nil: no global limit
	sites  map[string]*siteLimit
}

type siteLimit struct {
	perMinute int
	lim       *rate.Limiter
}

func newLimits(perSecond float64) *limits {
	l := &limits{sites: map[string]*siteLimit{}}
	if perSecond > 0 {
		l.global = rate.NewLimiter(rate.Limit(perSecond), burst(perSecond))
	}
	return l
}

// burst allows one second's worth at once, and at least one.
func burst(perSecond float64) int {
	return max(1, int(math.Ceil(perSecond)))
}

// take takes a token from the global bucket and from the site's
// (perMinute 0: none); it returns 0 when both had one, else how long to
// wait, and then takes nothing.
func (l *limits) take(now time.Time, site string, perMinute int) time.Duration {
	var rs []*rate.Reservation
	if l.global != nil {
		rs = append(rs, l.global.ReserveN(now, 1))
	}
	if s := l.site(site, perMinute); s != nil {
		rs = append(rs, s.ReserveN(now, 1))
	}
	var wait time.Duration
	for _, r := range rs {
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		for _, r := range rs {
			r.CancelAt(now)
		}
	}
	return wait
}

func (l *limits) site(site string, perMinute int) *rate.Limiter {
	if perMinute <= 0 {
		delete(l.sites, site)
		return nil
	}
	s, ok := l.sites[site]
	if !ok || s.perMinute != perMinute {
		perSecond := float64(perMinute) / 60
		s = &siteLimit{perMinute: perMinute, lim: rate.NewLimiter(rate.Limit(perSecond), burst(perSecond))}
		l.sites[site] = s
	}
	return s.lim
}
