package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
	"github.com/pushpipe/pushpipe/internal/automation"
)

// PushDashResponse is the answer to GET /v1/sites/{site}/dashboards/campaigns
// (one row per campaign variant) and .../automations (one row per
// automation step).
type PushDashResponse struct {
	RangeResponse
	AttributionWindow string        `json:"attribution_window"`
	Rows              []PushDashRow `json:"rows"`
}

// PushDashRow is the delivery funnel of one campaign variant or automation
// step, with the conversions attributed to its clicks and the comparison
// with its holdout (as in the attribution report). CTR is clicked /
// delivered; rates and lift are null when they would divide by zero.
type PushDashRow struct {
	CampaignID        string            `json:"campaign_id"`
	AutomationID      string            `json:"automation_id"`
	StepID            string            `json:"step_id"`
	Variant           string            `json:"variant"`
	Sent              uint64            `json:"sent"`
	Delivered         uint64            `json:"delivered"`
	Clicked           uint64            `json:"clicked"`
	Closed            uint64            `json:"closed"`
	Failed            uint64            `json:"failed"`
	Failures          map[string]uint64 `json:"failures"`
	CTR               *float64          `json:"ctr"`
	ConversionsTotal  uint64            `json:"conversions_total"`
	ConversionsUnique uint64            `json:"conversions_unique"`
	Revenue           float64           `json:"revenue"`
	ConversionRate    *float64          `json:"conversion_rate"`
	Holdout           HoldoutResponse   `json:"holdout"`
	Lift              *float64          `json:"lift"`
}

func (d *dashHandlers) campaigns(c *gin.Context) { d.pushDash(c, stats.Campaigns, reports.ByVariant) }

func (d *dashHandlers) automations(c *gin.Context) { d.pushDash(c, stats.Automations, reports.ByStep) }

// pushDash is GET .../dashboards/{campaigns|automations}?id&from&to&interval&tz&format.
func (d *dashHandlers) pushDash(c *gin.Context, kind stats.PushKind, by reports.By) {
	r := parseDash(c.Request.URL.Query(), c.Param("site"), d.now(), "id")
	q := stats.PushQuery{OverviewQuery: r.q, Kind: kind}
	q.ID, _ = r.get("id")
	if len(r.probs) > 0 {
		refuse(c, http.StatusBadRequest, r.probs...)
		return
	}
	ctx, cancel := d.requestContext(c)
	defer cancel()
	s, err := d.settings.SitePolicy(ctx, q.SiteID)
	if err != nil {
		d.failure(c, err, "site")
		return
	}
	var counts []stats.PushRow
	var attributed []reports.Row
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { counts, err = d.dash.PushPerformance(gctx, q); return err })
	g.Go(func() (err error) {
		attributed, err = d.reports.Attribution(gctx, reports.AttributionQuery{
			SiteID: q.SiteID, From: q.From, To: q.To, Window: s.AttributionWindow, By: by,
		})
		return err
	})
	if err := g.Wait(); err != nil {
		d.dashFailure(c, err)
		return
	}
	resp := PushDashResponse{
		RangeResponse: rangeResponse(r), AttributionWindow: automation.Duration(s.AttributionWindow).String(),
		Rows: joinPushRows(counts, attributed, q.ID),
	}
	if r.csv {
		d.respondCSV(c, pushTable(string(kind)+"s", resp.Rows))
		return
	}
	c.PureJSON(http.StatusOK, resp)
}

// joinPushRows joins the delivery counts and the attribution rows by key;
// id, when set, keeps only that campaign or automation.
func joinPushRows(counts []stats.PushRow, attributed []reports.Row, id string) []PushDashRow {
	rows := map[reports.Key]*PushDashRow{}
	get := func(k reports.Key) *PushDashRow {
		if r, ok := rows[k]; ok {
			return r
		}
		r := &PushDashRow{CampaignID: k.CampaignID, AutomationID: k.AutomationID, StepID: k.StepID, Variant: k.Variant, Failures: map[string]uint64{}}
		rows[k] = r
		return r
	}
	for _, p := range counts {
		r := get(reports.Key{CampaignID: p.CampaignID, AutomationID: p.AutomationID, StepID: p.StepID, Variant: p.Variant})
		r.Sent, r.Delivered, r.Clicked, r.Closed, r.Failed = p.Sent, p.Delivered, p.Clicked, p.Closed, p.Failed
		for reason, n := range p.Failures {
			r.Failures[reason] = n
		}
	}
	for _, a := range attributed {
		if id != "" && a.CampaignID != id && a.AutomationID != id {
			continue
		}
		ar := attributionRow(a)
		r := get(a.Key)
		r.ConversionsTotal, r.ConversionsUnique, r.Revenue = a.ConversionsTotal, a.ConversionsUnique, a.Revenue
		r.ConversionRate, r.Holdout, r.Lift = ar.ConversionRate, ar.Holdout, ar.Lift
	}
	out := make([]PushDashRow, 0, len(rows))
	for _, r := range rows {
		r.CTR = ratio(r.Clicked, r.Delivered)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return strings.Join([]string{a.CampaignID, a.AutomationID, a.StepID, a.Variant}, "\x00") <
			strings.Join([]string{b.CampaignID, b.AutomationID, b.StepID, b.Variant}, "\x00")
	})
	return out
}

func pushTable(name string, rows []PushDashRow) table {
	t := table{name: name, header: []string{
		"campaign_id", "automation_id", "step_id", "variant", "sent", "delivered", "clicked", "closed", "failed", "failures",
		"ctr", "conversions_total", "conversions_unique", "revenue", "conversion_rate",
		"holdout_members", "holdout_conversions_unique", "holdout_conversion_rate", "lift",
	}}
	for _, r := range rows {
		reasons := make([]string, 0, len(r.Failures))
		for reason, n := range r.Failures {
			reasons = append(reasons, reason+"="+csvCell(n))
		}
		sort.Strings(reasons)
		t.rows = append(t.rows, []any{
			r.CampaignID, r.AutomationID, r.StepID, r.Variant, r.Sent, r.Delivered, r.Clicked, r.Closed, r.Failed,
			strings.Join(reasons, " "), r.CTR, r.ConversionsTotal, r.ConversionsUnique, r.Revenue, r.ConversionRate,
			r.Holdout.Members, r.Holdout.ConversionsUnique, r.Holdout.ConversionRate, r.Lift,
		})
	}
	return t
}
