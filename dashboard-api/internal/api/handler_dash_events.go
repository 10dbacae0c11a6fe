package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// Limits of the custom-event dashboard.
const (
	MaxEventNames   = 20  // names per trends query
	DefaultTopNames = 10  // names shown when none are asked for
	MaxNameLength   = 200 // characters of an event name or property
)

// EventsResponse is the answer to GET /v1/sites/{site}/dashboards/events:
// custom events by name per bucket, their totals and those of the previous
// range, and with property= the breakdown by that property's values.
type EventsResponse struct {
	RangeResponse
	Names     []string           `json:"names"`
	Series    []BucketResponse   `json:"series"`
	Totals    map[string]uint64  `json:"totals"`
	Previous  map[string]uint64  `json:"previous"`
	Breakdown *BreakdownResponse `json:"breakdown"`
}

// BreakdownResponse is the top values of one property of the events (all
// the names asked for, or every custom event).
type BreakdownResponse struct {
	Property string             `json:"property"`
	Total    BreakdownRowJSON   `json:"total"`
	Rows     []BreakdownRowJSON `json:"rows"`
}

// BreakdownRowJSON is one value: events and distinct subscribers.
type BreakdownRowJSON struct {
	Value       string `json:"value"`
	Events      uint64 `json:"events"`
	Subscribers uint64 `json:"subscribers"`
}

// events is GET /v1/sites/{site}/dashboards/events?name&top&property&limit&from&to&interval&tz&format.
func (d *dashHandlers) events(c *gin.Context) {
	r := parseDash(c.Request.URL.Query(), c.Param("site"), d.now(), "name", "top", "property", "limit")
	q := stats.TrendsQuery{OverviewQuery: r.q, Names: r.own["name"], TopNames: r.intParam("top", DefaultTopNames, MaxEventNames)}
	if len(q.Names) > MaxEventNames {
		r.add("name", "is given %d times; ask for at most %d names", len(q.Names), MaxEventNames)
	}
	for _, n := range q.Names {
		if n == "" || utf8.RuneCountInString(n) > MaxNameLength {
			r.add("name", "an event name has 1 to %d characters", MaxNameLength)
			break
		}
	}
	property, withBreakdown := r.get("property")
	if withBreakdown && utf8.RuneCountInString(property) > MaxNameLength {
		r.add("property", "has more than %d characters", MaxNameLength)
	}
	limit := r.intParam("limit", DefaultBreakdownLimit, MaxBreakdownLimit)
	if len(r.probs) > 0 {
		refuse(c, http.StatusBadRequest, r.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	// The names first: the previous range compares the same names.
	cur, err := d.dash.EventTrends(ctx, q)
	if err != nil {
		d.dashFailure(c, err)
		return
	}
	var prev stats.Trends
	var brk stats.Breakdown
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		pq := q
		pq.OverviewQuery, pq.Names = r.prev, cur.Names
		prev, err = d.dash.EventTrends(gctx, pq)
		return err
	})
	if withBreakdown {
		g.Go(func() (err error) {
			brk, err = d.dash.EventBreakdown(gctx, stats.BreakdownQuery{OverviewQuery: r.q, Names: q.Names, Property: property, Limit: limit})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := eventsResponse(r, cur, prev)
	if withBreakdown {
		resp.Breakdown = breakdownResponse(property, brk)
	}
	if r.csv {
		d.respondCSV(c, eventsTable(resp))
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

func eventsResponse(r dashRequest, cur, prev stats.Trends) EventsResponse {
	resp := EventsResponse{
		RangeResponse: rangeResponse(r), Names: cur.Names, Series: make([]BucketResponse, len(cur.Series)),
		Totals: nonNil(cur.Totals), Previous: map[string]uint64{},
	}
	if resp.Names == nil {
		resp.Names = []string{}
	}
	for i, b := range cur.Series {
		resp.Series[i] = BucketResponse{Bucket: bucketStamp(b.Start, r.q.Location), Counts: nonNil(b.Counts)}
	}
	for _, n := range resp.Names {
		resp.Previous[n] = prev.Totals[n]
	}
	return resp
}

func breakdownResponse(property string, b stats.Breakdown) *BreakdownResponse {
	out := &BreakdownResponse{
		Property: property, Total: BreakdownRowJSON{"", b.Total.Events, b.Total.Subscribers},
		Rows: make([]BreakdownRowJSON, len(b.Rows)),
	}
	for i, row := range b.Rows {
		out.Rows[i] = BreakdownRowJSON{row.Value, row.Events, row.Subscribers}
	}
	return out
}

// eventsTable is the breakdown when one was asked for, else the series
// (one column per name).
func eventsTable(resp EventsResponse) table {
	if b := resp.Breakdown; b != nil {
		t := table{name: "events-by-" + b.Property, header: []string{b.Property, "events", "subscribers"}}
		for _, row := range b.Rows {
			t.rows = append(t.rows, []any{row.Value, row.Events, row.Subscribers})
		}
		return t
	}
	t := table{name: "events", header: append([]string{"bucket"}, resp.Names...)}
	for _, b := range resp.Series {
		row := []any{b.Bucket}
		for _, n := range resp.Names {
			row = append(row, b.Counts[n])
		}
		t.rows = append(t.rows, row)
	}
	return t
}
