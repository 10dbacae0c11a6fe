package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// RealtimeResponse is the answer to GET /v1/sites/{site}/dashboards/realtime:
// the last 30 minutes, minute by minute, the current (partial) minute last.
type RealtimeResponse struct {
	SiteID  string       `json:"site_id"`
	Now     string       `json:"now"`
	TZ      string       `json:"tz"`
	Minutes []MinuteJSON `json:"minutes"`
}

// MinuteJSON is one minute: all events, distinct visitors (subscribers
// with a page view), subscriptions and push clicks.
type MinuteJSON struct {
	Minute        string `json:"minute"`
	Events        uint64 `json:"events"`
	Visitors      uint64 `json:"visitors"`
	Subscriptions uint64 `json:"subscriptions"`
	Clicks        uint64 `json:"clicks"`
}

// realtime is GET /v1/sites/{site}/dashboards/realtime?tz&format.
func (d *dashHandlers) realtime(c *gin.Context) {
	values := c.Request.URL.Query()
	probs := knownParams(values, "tz", "format")
	r := parseDash(values, c.Param("site"), d.now())
	for _, p := range r.probs { // of the range parameters only tz and format apply here
		if p.Field == "tz" || p.Field == "format" {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	now := d.now()
	mins, err := d.dash.Realtime(ctx, r.q.SiteID, now)
	if err != nil {
		d.dashFailure(c, err)
		return
	}
	loc := r.q.Location
	resp := RealtimeResponse{SiteID: r.q.SiteID, Now: stamp(now, loc), TZ: loc.String(), Minutes: make([]MinuteJSON, len(mins))}
	for i, m := range mins {
		resp.Minutes[i] = MinuteJSON{bucketStamp(m.Start, loc), m.Events, m.Visitors, m.Subscriptions, m.Clicks}
	}
	if r.csv {
		t := table{name: "realtime", header: []string{"minute", "events", "visitors", "subscriptions", "clicks"}}
		for _, m := range resp.Minutes {
			t.rows = append(t.rows, []any{m.Minute, m.Events, m.Visitors, m.Subscriptions, m.Clicks})
		}
		d.respondCSV(c, t)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}
