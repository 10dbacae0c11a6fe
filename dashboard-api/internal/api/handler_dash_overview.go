package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// DashOverviewResponse is the answer to GET /v1/sites/{site}/dashboards/overview:
// the metrics of the range with those of the previous range, and the events
// by type per bucket.
type DashOverviewResponse struct {
	RangeResponse
	Metrics []MetricResponse `json:"metrics"`
	Series  []BucketResponse `json:"series"`
}

// MetricResponse is one metric of the range and of the previous range.
// Change is value / previous - 1; Value, Previous and Change are null when
// they would divide by zero.
type MetricResponse struct {
	Name     string   `json:"name"`
	Value    *float64 `json:"value"`
	Previous *float64 `json:"previous"`
	Change   *float64 `json:"change"`
}

// overviewMetrics are the overview's metrics in order: visitors (distinct
// subscribers with a page view), subscribers (total at the end of the range,
// new, lost: unsubscribed or expired), pushes sent, delivered and clicked,
// CTR (clicked / delivered), conversions and their revenue.
var overviewMetrics = []string{
	"visitors", "subscribers_total", "subscribers_new", "subscribers_lost",
	"pushes_sent", "pushes_delivered", "pushes_clicked", "ctr", "conversions", "revenue",
}

// overviewNumbers is one range's numbers.
type overviewNumbers struct {
	ov    stats.Overview
	total uint64 // subscribed at the end of the range
}

func (n overviewNumbers) metric(name string) *float64 {
	f := func(v uint64) *float64 { x := float64(v); return &x }
	switch name {
	case "visitors":
		return f(n.ov.UniqueVisitors)
	case "subscribers_total":
		return f(n.total)
	case "subscribers_new":
		return f(n.ov.Subscribers.New)
	case "subscribers_lost":
		return f(n.ov.Subscribers.Lost)
	case "pushes_sent":
		return f(n.ov.Totals["push_sent"])
	case "pushes_delivered":
		return f(n.ov.Totals["push_delivered"])
	case "pushes_clicked":
		return f(n.ov.Totals["push_clicked"])
	case "ctr":
		return ratio(n.ov.Totals["push_clicked"], n.ov.Totals["push_delivered"])
	case "conversions":
		return f(n.ov.Totals["conversion"])
	default:
		r := n.ov.Revenue
		return &r
	}
}

// overview is GET /v1/sites/{site}/dashboards/overview?from&to&interval&tz&format.
func (d *dashHandlers) overview(c *gin.Context) {
	r := parseDash(c.Request.URL.Query(), c.Param("site"), d.now())
	if len(r.probs) > 0 {
		refuse(c, http.StatusBadRequest, r.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	var cur, prev overviewNumbers
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { cur, err = d.overviewNumbers(gctx, r.q); return err })
	g.Go(func() (err error) { prev, err = d.overviewNumbers(gctx, r.prev); return err })
	if err := g.Wait(); err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := DashOverviewResponse{RangeResponse: rangeResponse(r), Metrics: make([]MetricResponse, len(overviewMetrics))}
	for i, name := range overviewMetrics {
		v, p := cur.metric(name), prev.metric(name)
		resp.Metrics[i] = MetricResponse{Name: name, Value: v, Previous: p, Change: change(v, p)}
	}
	resp.Series = overviewResponse(r.q, cur.ov).Series
	if r.csv {
		t := table{name: "overview", header: []string{"metric", "value", "previous", "change"}}
		for _, m := range resp.Metrics {
			t.rows = append(t.rows, []any{m.Name, m.Value, m.Previous, m.Change})
		}
		d.respondCSV(c, t)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

func (d *dashHandlers) overviewNumbers(ctx context.Context, q stats.OverviewQuery) (overviewNumbers, error) {
	var n overviewNumbers
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { n.ov, err = d.dash.Overview(gctx, q); return err })
	g.Go(func() (err error) { n.total, err = d.dash.SubscribedAt(gctx, q.SiteID, q.To); return err })
	return n, g.Wait()
}

// change is v / prev - 1, nil when either is unknown or prev is zero.
func change(v, prev *float64) *float64 {
	if v == nil || prev == nil || *prev == 0 {
		return nil
	}
	c := *v / *prev - 1
	return &c
}

// bucketStamp formats a bucket start in the request's zone.
func bucketStamp(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }
