package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// Paths of the dashboards.
const (
	PathDashOverview    = "/v1/sites/:site/dashboards/overview"
	PathDashFunnel      = "/v1/sites/:site/dashboards/funnel"
	PathDashCampaigns   = "/v1/sites/:site/dashboards/campaigns"
	PathDashAutomations = "/v1/sites/:site/dashboards/automations"
	PathDashEvents      = "/v1/sites/:site/dashboards/events"
	PathDashConversions = "/v1/sites/:site/dashboards/conversions"
	PathDashSegments    = "/v1/sites/:site/dashboards/segments"
	PathDashRealtime    = "/v1/sites/:site/dashboards/realtime"
	PathSubscribers     = "/v1/sites/:site/subscribers"
	PathTimeline        = "/v1/sites/:site/subscribers/:id/timeline"
)

// Dashboards answers the dashboards' queries from ClickHouse, every one
// scoped by site. *stats.ClickHouse is one; the router serves the
// dashboards when Deps.Stats is one too, and answers 503 otherwise.
type Dashboards interface {
	StatsQuerier
	SubscribedAt(ctx context.Context, siteID string, at time.Time) (uint64, error)
	Funnel(ctx context.Context, q stats.FunnelQuery) (stats.Funnel, error)
	PushPerformance(ctx context.Context, q stats.PushQuery) ([]stats.PushRow, error)
	EventTrends(ctx context.Context, q stats.TrendsQuery) (stats.Trends, error)
	EventBreakdown(ctx context.Context, q stats.BreakdownQuery) (stats.Breakdown, error)
	Conversions(ctx context.Context, q stats.ConversionsQuery) ([]stats.Goal, error)
	SegmentSizes(ctx context.Context, q stats.SegmentSizesQuery) ([]stats.SegmentSeries, error)
	Subscribers(ctx context.Context, q stats.SubscribersQuery) ([]stats.Subscriber, error)
	Timeline(ctx context.Context, q stats.TimelineQuery) ([]stats.TimelineEvent, error)
	Realtime(ctx context.Context, siteID string, now time.Time) ([]stats.Minute, error)
}

// dashHandlers serves the dashboards.
type dashHandlers struct {
	*handlers
	dash Dashboards // nil: not configured
}

// registerDashboards registers the dashboards, the subscriber list and a
// subscriber's timeline: all read-only.
func registerDashboards(read, _, _ *gin.RouterGroup, h *handlers) {
	d := &dashHandlers{handlers: h}
	d.dash, _ = h.stats.(Dashboards)
	read.GET("/dashboards/overview", d.ready, d.overview)
	read.GET("/dashboards/funnel", d.ready, d.funnel)
	read.GET("/dashboards/campaigns", d.ready, d.campaigns)
	read.GET("/dashboards/automations", d.ready, d.automations)
	read.GET("/dashboards/events", d.ready, d.events)
	read.GET("/dashboards/conversions", d.ready, d.conversions)
	read.GET("/dashboards/segments", d.ready, d.segmentSizes)
	read.GET("/dashboards/realtime", d.ready, d.realtime)
	read.GET("/subscribers", d.ready, d.subscribers)
	read.GET("/subscribers/:id/timeline", d.ready, d.timeline)
}

func (d *dashHandlers) ready(c *gin.Context) {
	if d.dash == nil {
		refuse(c, http.StatusServiceUnavailable, Problem{"", "the dashboards are not configured on this server"})
	}
}

// dashFailure answers for a failed dashboard query.
func (d *dashHandlers) dashFailure(c *gin.Context, err error) {
	_ = c.Error(err)
	if errors.Is(err, context.DeadlineExceeded) {
		refuse(c, http.StatusGatewayTimeout, Problem{"", "the query took too long; try a shorter range or a wider interval"})
		return
	}
	refuse(c, http.StatusInternalServerError, Problem{"", "the dashboard could not be read; retry later"})
}

// dashRequest is a dashboard request's range, the previous range of equal
// length (ending where this one starts), the answer's format and the
// dashboard's own parameters.
type dashRequest struct {
	q, prev stats.OverviewQuery
	csv     bool
	own     url.Values
	probs   []Problem
}

func (r *dashRequest) add(field, format string, args ...any) {
	r.probs = append(r.probs, Problem{field, fmt.Sprintf(format, args...)})
}

// get returns an own parameter given at most once.
func (r *dashRequest) get(key string) (string, bool) { return single(r.own, r.add)(key) }

// parseDash reads the range parameters (as the overview does: from, to,
// interval, tz), format (json or csv) and the dashboard's own parameters,
// refusing any other.
func parseDash(values url.Values, siteID string, now time.Time, own ...string) dashRequest {
	r := dashRequest{own: url.Values{}}
	rangeValues := url.Values{}
	takes := strings.Join(append(append(append([]string{}, overviewParams...), "format"), own...), ", ")
	for _, k := range sortedKeys(values) {
		switch {
		case contains(overviewParams, k):
			rangeValues[k] = values[k]
		case k == "format" || contains(own, k):
			r.own[k] = values[k]
		default:
			r.add(k, "unknown parameter; this endpoint takes %s", takes)
		}
	}
	q, probs := parseOverview(rangeValues, siteID, now)
	r.q, r.probs = q, append(r.probs, probs...)
	if s, ok := r.get("format"); ok {
		switch s {
		case "json":
		case "csv":
			r.csv = true
		default:
			r.add("format", "%q is not a format; use json or csv", s)
		}
	}
	r.prev = previousPeriod(r.q)
	return r
}

// previousPeriod is the range of equal length just before q.
func previousPeriod(q stats.OverviewQuery) stats.OverviewQuery {
	p := q
	p.From, p.To = q.From.Add(-q.To.Sub(q.From)), q.From
	p.Buckets, _ = stats.Buckets(p.From, p.To, q.Interval, q.Location, MaxBuckets)
	return p
}

// intParam reads an optional integer parameter from 1 to maxN.
func (r *dashRequest) intParam(key string, def, maxN int) int {
	s, ok := r.get(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxN {
		r.add(key, "%q is not a number from 1 to %d", s, maxN)
		return def
	}
	return n
}

// stamp formats an instant in the request's zone.
func stamp(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339Nano) }

// RangeResponse is the range a dashboard answers for, and the previous
// range of equal length it compares with.
type RangeResponse struct {
	SiteID       string `json:"site_id"`
	From         string `json:"from"`
	To           string `json:"to"`
	Interval     string `json:"interval"`
	TZ           string `json:"tz"`
	PreviousFrom string `json:"previous_from"`
	PreviousTo   string `json:"previous_to"`
}

func rangeResponse(r dashRequest) RangeResponse {
	loc := r.q.Location
	return RangeResponse{
		SiteID: r.q.SiteID, From: stamp(r.q.From, loc), To: stamp(r.q.To, loc), Interval: string(r.q.Interval), TZ: loc.String(),
		PreviousFrom: stamp(r.prev.From, loc), PreviousTo: stamp(r.prev.To, loc),
	}
}
