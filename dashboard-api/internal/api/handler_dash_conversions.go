package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/automation"
)

// ConversionsResponse is the answer to GET /v1/sites/{site}/dashboards/conversions:
// conversions by goal (the conversion's name), most first. A conversion is
// attributed when the same subscriber clicked a push at most the site's
// attribution window before it.
type ConversionsResponse struct {
	RangeResponse
	AttributionWindow string     `json:"attribution_window"`
	Goals             []GoalJSON `json:"goals"`
}

// GoalJSON is one goal: its totals, the previous range's, and per bucket.
type GoalJSON struct {
	Goal        string           `json:"goal"`
	Totals      GoalCountsJSON   `json:"totals"`
	Subscribers uint64           `json:"subscribers"`
	Previous    GoalCountsJSON   `json:"previous"`
	Series      []GoalBucketJSON `json:"series"`
}

// GoalCountsJSON are conversions and revenue, attributed or not.
type GoalCountsJSON struct {
	Conversions         uint64  `json:"conversions"`
	Attributed          uint64  `json:"attributed"`
	Unattributed        uint64  `json:"unattributed"`
	Revenue             float64 `json:"revenue"`
	AttributedRevenue   float64 `json:"attributed_revenue"`
	UnattributedRevenue float64 `json:"unattributed_revenue"`
}

// GoalBucketJSON is a goal's counts in one bucket.
type GoalBucketJSON struct {
	Bucket string `json:"bucket"`
	GoalCountsJSON
}

func goalCounts(g stats.GoalCounts) GoalCountsJSON {
	return GoalCountsJSON{
		Conversions: g.Conversions, Attributed: g.Attributed, Unattributed: g.Conversions - g.Attributed,
		Revenue: g.Revenue, AttributedRevenue: g.AttributedRevenue, UnattributedRevenue: g.Revenue - g.AttributedRevenue,
	}
}

// conversions is GET /v1/sites/{site}/dashboards/conversions?from&to&interval&tz&format.
func (d *dashHandlers) conversions(c *gin.Context) {
	r := parseDash(c.Request.URL.Query(), c.Param("site"), d.now())
	if len(r.probs) > 0 {
		refuse(c, http.StatusBadRequest, r.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	s, err := d.settings.SitePolicy(ctx, r.q.SiteID)
	if err != nil {
		d.failure(c, err, "site")
		return
	}
	var cur, prev []stats.Goal
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		cur, err = d.dash.Conversions(gctx, stats.ConversionsQuery{OverviewQuery: r.q, Window: s.AttributionWindow})
		return err
	})
	g.Go(func() (err error) {
		prev, err = d.dash.Conversions(gctx, stats.ConversionsQuery{OverviewQuery: r.prev, Window: s.AttributionWindow})
		return err
	})
	if err := g.Wait(); err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := ConversionsResponse{
		RangeResponse: rangeResponse(r), AttributionWindow: automation.Duration(s.AttributionWindow).String(),
		Goals: goalsResponse(r, cur, prev),
	}
	if r.csv {
		t := table{name: "conversions", header: []string{
			"goal", "conversions", "attributed", "unattributed", "revenue", "attributed_revenue", "unattributed_revenue",
			"subscribers", "previous_conversions", "previous_attributed", "previous_revenue",
		}}
		for _, g := range resp.Goals {
			t.rows = append(t.rows, []any{
				g.Goal, g.Totals.Conversions, g.Totals.Attributed, g.Totals.Unattributed, g.Totals.Revenue,
				g.Totals.AttributedRevenue, g.Totals.UnattributedRevenue, g.Subscribers,
				g.Previous.Conversions, g.Previous.Attributed, g.Previous.Revenue,
			})
		}
		d.respondCSV(c, t)
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

// goalsResponse lists the goals of the range in its order, with the
// previous range's totals of each (a goal only in the previous range is
// listed last, with zero totals now).
func goalsResponse(r dashRequest, cur, prev []stats.Goal) []GoalJSON {
	prevBy := map[string]stats.GoalCounts{}
	for _, g := range prev {
		prevBy[g.Name] = g.Totals
	}
	out := make([]GoalJSON, 0, len(cur))
	seen := map[string]bool{}
	for _, g := range cur {
		seen[g.Name] = true
		gj := GoalJSON{
			Goal: g.Name, Totals: goalCounts(g.Totals), Subscribers: g.Totals.Subscribers,
			Previous: goalCounts(prevBy[g.Name]), Series: make([]GoalBucketJSON, len(g.Series)),
		}
		for i, b := range g.Series {
			gj.Series[i] = GoalBucketJSON{Bucket: bucketStamp(b.Start, r.q.Location), GoalCountsJSON: goalCounts(b.GoalCounts)}
		}
		out = append(out, gj)
	}
	for _, g := range prev {
		if !seen[g.Name] {
			out = append(out, GoalJSON{Goal: g.Name, Previous: goalCounts(g.Totals), Series: []GoalBucketJSON{}})
		}
	}
	return out
}
