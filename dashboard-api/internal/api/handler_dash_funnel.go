package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// Limits of the breakdown tables.
const (
	DefaultBreakdownLimit = 20
	MaxBreakdownLimit     = 1000
)

// FunnelResponse is the answer to GET /v1/sites/{site}/dashboards/funnel:
// prompts shown and their outcomes, in total, in the previous range, and by
// the breakdown (the most prompts first).
type FunnelResponse struct {
	RangeResponse
	By       string          `json:"by"`
	Total    FunnelRowJSON   `json:"total"`
	Previous FunnelRowJSON   `json:"previous"`
	Rows     []FunnelRowJSON `json:"rows"`
}

// FunnelRowJSON is the funnel of one key. AllowRate is allowed / shown
// (null without prompts).
type FunnelRowJSON struct {
	Key       string   `json:"key"`
	Shown     uint64   `json:"shown"`
	Allowed   uint64   `json:"allowed"`
	Denied    uint64   `json:"denied"`
	Dismissed uint64   `json:"dismissed"`
	AllowRate *float64 `json:"allow_rate"`
}

func funnelRow(r stats.FunnelRow) FunnelRowJSON {
	return FunnelRowJSON{r.Key, r.Shown, r.Allowed, r.Denied, r.Dismissed, ratio(r.Allowed, r.Shown)}
}

// funnel is GET /v1/sites/{site}/dashboards/funnel?by&limit&from&to&interval&tz&format.
func (d *dashHandlers) funnel(c *gin.Context) {
	r := parseDash(c.Request.URL.Query(), c.Param("site"), d.now(), "by", "limit")
	q := stats.FunnelQuery{OverviewQuery: r.q, By: stats.FunnelByVariant, Limit: r.intParam("limit", DefaultBreakdownLimit, MaxBreakdownLimit)}
	if s, ok := r.get("by"); ok {
		q.By = stats.FunnelBy(s)
		if !containsFunnelBy(q.By) {
			var names []string
			for _, b := range stats.FunnelBreakdowns() {
				names = append(names, string(b))
			}
			r.add("by", "%q is not one of %s", s, strings.Join(names, ", "))
		}
	}
	if len(r.probs) > 0 {
		refuse(c, http.StatusBadRequest, r.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	var cur, prev stats.Funnel
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { cur, err = d.dash.Funnel(gctx, q); return err })
	g.Go(func() (err error) {
		pq := q
		pq.OverviewQuery, pq.Limit = r.prev, 1
		prev, err = d.dash.Funnel(gctx, pq)
		return err
	})
	if err := g.Wait(); err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := FunnelResponse{
		RangeResponse: rangeResponse(r), By: string(q.By), Total: funnelRow(cur.Total), Previous: funnelRow(prev.Total),
		Rows: make([]FunnelRowJSON, len(cur.Rows)),
	}
	for i, row := range cur.Rows {
		resp.Rows[i] = funnelRow(row)
	}
	if r.csv {
		t := table{name: "funnel-by-" + string(q.By), header: []string{string(q.By), "shown", "allowed", "denied", "dismissed", "allow_rate"}}
		for _, row := range resp.Rows {
			t.rows = append(t.rows, []any{row.Key, row.Shown, row.Allowed, row.Denied, row.Dismissed, row.AllowRate})
		}
		d.respondCSV(c, t)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

func containsFunnelBy(b stats.FunnelBy) bool {
	for _, x := range stats.FunnelBreakdowns() {
		if x == b {
			return true
		}
	}
	return false
}
