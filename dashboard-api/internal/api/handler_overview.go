package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/stats"
)

// OverviewResponse is the answer to GET /v1/sites/{site}/stats/overview.
// Times are RFC 3339 in the requested zone.
type OverviewResponse struct {
	SiteID         string              `json:"site_id"`
	From           string              `json:"from"`
	To             string              `json:"to"`
	Interval       string              `json:"interval"`
	TZ             string              `json:"tz"`
	Series         []BucketResponse    `json:"series"`
	Totals         map[string]uint64   `json:"totals"`
	UniqueVisitors uint64              `json:"unique_visitors"`
	Subscribers    SubscribersResponse `json:"subscribers"`
}

// BucketResponse is one time bucket: its start, and events by type (every type
// of the totals, zero when absent).
type BucketResponse struct {
	Bucket string            `json:"bucket"`
	Counts map[string]uint64 `json:"counts"`
}

// SubscribersResponse is subscriber growth: subscribed now, and distinct
// subscribers who subscribed or unsubscribed within the range.
type SubscribersResponse struct {
	Total        uint64 `json:"total"`
	New          uint64 `json:"new"`
	Unsubscribed uint64 `json:"unsubscribed"`
}

// overview is GET /v1/sites/{site}/stats/overview?from&to&interval&tz.
func (h *handlers) overview(c *gin.Context) {
	q, probs := parseOverview(c.Request.URL.Query(), c.Param("site"), h.now())
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.queryTimeout)
	defer cancel()
	ov, err := h.stats.Overview(ctx, q)
	if err != nil {
		_ = c.Error(err)
		if errors.Is(err, context.DeadlineExceeded) {
			refuse(c, http.StatusGatewayTimeout, Problem{"", "the query took too long; try a shorter range"})
			return
		}
		refuse(c, http.StatusInternalServerError, Problem{"", "the statistics could not be read; retry later"})
		return
	}
	c.PureJSON(http.StatusOK, overviewResponse(q, ov))
}

func overviewResponse(q stats.OverviewQuery, ov stats.Overview) OverviewResponse {
	series := make([]BucketResponse, len(ov.Series))
	for i, b := range ov.Series {
		series[i] = BucketResponse{Bucket: b.Start.In(q.Location).Format(time.RFC3339), Counts: nonNil(b.Counts)}
	}
	return OverviewResponse{
		SiteID:         q.SiteID,
		From:           q.From.In(q.Location).Format(time.RFC3339Nano),
		To:             q.To.In(q.Location).Format(time.RFC3339Nano),
		Interval:       string(q.Interval),
		TZ:             q.Location.String(),
		Series:         series,
		Totals:         nonNil(ov.Totals),
		UniqueVisitors: ov.UniqueVisitors,
		Subscribers: SubscribersResponse{
			Total: ov.Subscribers.Total, New: ov.Subscribers.New, Unsubscribed: ov.Subscribers.Unsubscribed,
		},
	}
}

func nonNil(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}
