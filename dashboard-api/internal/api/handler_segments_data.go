package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/segdata"
	"github.com/pushpipe/pushpipe/segments"
)

// PreviewResponse is the answer to POST /v1/sites/{site}/segments/preview:
// how many subscribers the rule selects at the instant At.
type PreviewResponse struct {
	Count uint64 `json:"count"`
	At    string `json:"at"`
}

// MembersResponse is one page of GET /v1/sites/{site}/segments/{id}/members:
// current members by subscriber id; NextCursor (null on the last page) asks
// for the next page.
type MembersResponse struct {
	Members    []MemberResponse `json:"members"`
	NextCursor *string          `json:"next_cursor"`
}

// MemberResponse is a current member and when it entered the segment.
type MemberResponse struct {
	SubscriberID string `json:"subscriber_id"`
	Since        string `json:"since"`
}

// previewSegment is POST /v1/sites/{site}/segments/preview {rule|text, at?}:
// the rule is checked like a saved one, compiled and counted on ClickHouse.
func (h *handlers) previewSegment(c *gin.Context) {
	var req PreviewRequest
	if !decodeBody(c, &req) {
		return
	}
	r, probs := parseRule(req.Rule, req.Text)
	at, prob := parseAt("at", req.At, h.now())
	if prob != nil {
		probs = append(probs, *prob)
	}
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	rules, err := h.loadSiteRules(ctx, c.Param("site"))
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	q, probs, err := rules.checkRule(ruleField(req.Text), "", r, at)
	switch {
	case err != nil:
		h.internalError(c, err)
		return
	case len(probs) > 0:
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	n, err := h.data.Count(ctx, q)
	if err != nil {
		h.queryFailure(c, err)
		return
	}
	c.PureJSON(http.StatusOK, PreviewResponse{Count: n, At: at.Format(time.RFC3339Nano)})
}

// segmentMembers is GET /v1/sites/{site}/segments/{id}/members?limit&cursor.
func (h *handlers) segmentMembers(c *gin.Context) {
	p, probs := parseMembers(c.Request.URL.Query())
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	seg, err := h.segments.Segment(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	// One more than the page: whether it exists says if there is a next page.
	ms, err := h.data.Members(ctx, segdata.MembersQuery{SiteID: c.Param("site"), SegmentID: seg.ID, After: p.after, Limit: p.limit + 1})
	if err != nil {
		h.queryFailure(c, err)
		return
	}
	resp := MembersResponse{Members: []MemberResponse{}}
	if len(ms) > p.limit {
		ms = ms[:p.limit]
		next := encodeCursor(ms[len(ms)-1].SubscriberID)
		resp.NextCursor = &next
	}
	for _, m := range ms {
		resp.Members = append(resp.Members, MemberResponse{SubscriberID: m.SubscriberID, Since: m.Since.UTC().Format(time.RFC3339Nano)})
	}
	c.PureJSON(http.StatusOK, resp)
}

// MaxExplainEvents bounds the events one explanation reads; a subscriber
// with more up to the instant is refused (422) rather than read slowly.
const MaxExplainEvents = 100_000

// explainSegment is GET /v1/sites/{site}/segments/{id}/explain?subscriber&at:
// why the subscriber is or is not a member at the instant (default now),
// evaluated over their events with the segment and those it refers to.
func (h *handlers) explainSegment(c *gin.Context) {
	p, probs := parseExplain(c.Request.URL.Query(), h.now())
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site := c.Param("site")
	seg, err := h.segments.Segment(ctx, site, c.Param("id"))
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	set, ok := h.explainSet(ctx, c, seg.ID)
	if !ok {
		return
	}
	events, err := h.data.Events(ctx, segdata.EventsQuery{SiteID: site, SubscriberID: p.subscriber, At: p.at, Limit: MaxExplainEvents + 1})
	if err != nil {
		h.queryFailure(c, err)
		return
	}
	if len(events) > MaxExplainEvents {
		refuse(c, http.StatusUnprocessableEntity, Problem{"subscriber", fmt.Sprintf(
			"has more than %d events up to %s, more than an explanation reads; ask for an earlier instant (at)",
			MaxExplainEvents, p.at.Format(time.RFC3339Nano))})
		return
	}
	x, err := set.Explain(seg.ID, events, p.at)
	if err != nil {
		h.internalError(c, err)
		return
	}
	c.PureJSON(http.StatusOK, x)
}

// explainSet builds the evaluator's set for segment id: its rule and the
// rules it refers to. It answers the request itself when it cannot.
func (h *handlers) explainSet(ctx context.Context, c *gin.Context, id string) (*segments.Set, bool) {
	rules, err := h.loadSiteRules(ctx, c.Param("site"))
	if err != nil {
		h.storeFailure(c, err)
		return nil, false
	}
	r, ok := rules.rules[id]
	if !ok {
		refuse(c, http.StatusUnprocessableEntity, Problem{"id", "the stored rule of this segment no longer reads; save it again"})
		return nil, false
	}
	set, err := segments.NewSet(rules.closure(id, r))
	if err != nil {
		refuse(c, http.StatusUnprocessableEntity, Problem{"id", "this segment cannot be evaluated: " + err.Error()})
		return nil, false
	}
	return set, true
}
