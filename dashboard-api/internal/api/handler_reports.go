package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/internal/automation"
)

// Limits of report ranges.
const (
	DefaultReportRange = 7 * 24 * time.Hour
	MaxReportRange     = 92 * 24 * time.Hour
)

// AttributionResponse is the answer to GET /v1/sites/{site}/reports/attribution.
type AttributionResponse struct {
	From              string           `json:"from"`
	To                string           `json:"to"`
	By                string           `json:"by"`
	AttributionWindow string           `json:"attribution_window"`
	Rows              []AttributionRow `json:"rows"`
}

// AttributionRow is one campaign, automation, step or variant: the ids of
// its grouping (the others empty), pushes sent, clicks, the conversions
// attributed to its clicks (total, distinct subscribers, revenue), and the
// comparison with its holdout. ConversionRate is the share of recipients
// with a conversion within the window after a push (clicked or not), the
// holdout's the share of members with one within the window after being
// held out; Lift is ConversionRate / holdout rate - 1. Rates and lift are
// null when they would divide by zero.
type AttributionRow struct {
	CampaignID        string          `json:"campaign_id"`
	AutomationID      string          `json:"automation_id"`
	StepID            string          `json:"step_id"`
	Variant           string          `json:"variant"`
	PushesSent        uint64          `json:"pushes_sent"`
	Recipients        uint64          `json:"recipients"`
	Clicks            uint64          `json:"clicks"`
	ConversionsTotal  uint64          `json:"conversions_total"`
	ConversionsUnique uint64          `json:"conversions_unique"`
	Revenue           float64         `json:"revenue"`
	Holdout           HoldoutResponse `json:"holdout"`
	ConversionRate    *float64        `json:"conversion_rate"`
	Lift              *float64        `json:"lift"`
}

// HoldoutResponse is the held-out side of a row.
type HoldoutResponse struct {
	Members           uint64   `json:"members"`
	ConversionsUnique uint64   `json:"conversions_unique"`
	ConversionRate    *float64 `json:"conversion_rate"`
}

// attribution is GET /v1/sites/{site}/reports/attribution?from&to&by.
func (h *handlers) attribution(c *gin.Context) {
	q, probs := parseAttribution(c.Request.URL.Query(), c.Param("site"), h.now())
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	s, err := h.settings.SitePolicy(ctx, q.SiteID)
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	q.Window = s.AttributionWindow
	rows, err := h.reports.Attribution(ctx, q)
	if err != nil {
		h.queryFailure(c, err)
		return
	}
	resp := AttributionResponse{
		From: q.From.Format(time.RFC3339Nano), To: q.To.Format(time.RFC3339Nano), By: string(q.By),
		AttributionWindow: automation.Duration(q.Window).String(), Rows: make([]AttributionRow, len(rows)),
	}
	for i, r := range rows {
		resp.Rows[i] = attributionRow(r)
	}
	c.PureJSON(http.StatusOK, resp)
}

func attributionRow(r reports.Row) AttributionRow {
	out := AttributionRow{
		CampaignID: r.CampaignID, AutomationID: r.AutomationID, StepID: r.StepID, Variant: r.Variant,
		PushesSent: r.PushesSent, Recipients: r.Recipients, Clicks: r.Clicks,
		ConversionsTotal: r.ConversionsTotal, ConversionsUnique: r.ConversionsUnique, Revenue: r.Revenue,
		Holdout: HoldoutResponse{
			Members: r.Holdout.Members, ConversionsUnique: r.Holdout.ConversionsUnique,
			ConversionRate: ratio(r.Holdout.ConversionsUnique, r.Holdout.Members),
		},
		ConversionRate: ratio(r.RecipientsConverted, r.Recipients),
	}
	if out.ConversionRate != nil && out.Holdout.ConversionRate != nil && *out.Holdout.ConversionRate > 0 {
		lift := *out.ConversionRate / *out.Holdout.ConversionRate - 1
		out.Lift = &lift
	}
	return out
}

func ratio(n, d uint64) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// parseAttribution reads from and to (RFC 3339; default the 7 days before
// now; at most MaxReportRange) and by (campaign, automation, step, variant;
// default campaign).
func parseAttribution(values url.Values, siteID string, now time.Time) (reports.AttributionQuery, []Problem) {
	probs := knownParams(values, "from", "to", "by")
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	get := single(values, add)
	q := reports.AttributionQuery{SiteID: siteID, By: reports.ByCampaign}
	toText, _ := get("to")
	to, prob := parseAt("to", toText, now)
	if prob != nil {
		probs = append(probs, *prob)
	}
	from := to.Add(-DefaultReportRange)
	if s, ok := get("from"); ok {
		if from, prob = parseAt("from", s, now); prob != nil {
			probs = append(probs, *prob)
		}
	}
	switch {
	case len(probs) > 0:
	case !from.Before(to):
		add("from", "must be before to")
	case to.Sub(from) > MaxReportRange:
		add("from", "the range is longer than %d days", int(MaxReportRange/(24*time.Hour)))
	}
	q.From, q.To = from, to
	if s, ok := get("by"); ok {
		q.By = reports.By(s)
		if !validBy(q.By) {
			names := make([]string, 0, 4)
			for _, b := range reports.Groupings() {
				names = append(names, string(b))
			}
			add("by", "%q is not one of %s", s, strings.Join(names, ", "))
		}
	}
	return q, probs
}

func validBy(b reports.By) bool {
	for _, x := range reports.Groupings() {
		if x == b {
			return true
		}
	}
	return false
}
