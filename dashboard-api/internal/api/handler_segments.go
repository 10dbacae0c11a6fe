package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// SegmentResponse is a segment as the API shows it: the rule in its JSON
// form (rule) and its text form (text). Version is also the ETag, which
// If-Match takes back on PUT.
type SegmentResponse struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Rule        json.RawMessage `json:"rule"`
	Text        string          `json:"text"`
	Version     int             `json:"version"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
}

// SegmentListResponse is the answer to GET /v1/sites/{site}/segments: the
// live segments, by name.
type SegmentListResponse struct {
	Segments []SegmentResponse `json:"segments"`
}

func segmentResponse(seg controlplane.Segment) SegmentResponse {
	resp := SegmentResponse{
		ID: seg.ID, Name: seg.Name, Description: seg.Description, Rule: seg.Rule, Version: seg.Version,
		CreatedAt: seg.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: seg.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	if r, err := segments.Parse(seg.Rule); err == nil {
		resp.Text = segments.Format(r)
	}
	return resp
}

// requestContext bounds the storage calls of one request.
func (h *handlers) requestContext(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), h.queryTimeout)
}

// listSegments is GET /v1/sites/{site}/segments.
func (h *handlers) listSegments(c *gin.Context) {
	if probs := knownParams(c.Request.URL.Query()); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	segs, err := h.segments.Segments(ctx, c.Param("site"))
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	resp := SegmentListResponse{Segments: make([]SegmentResponse, len(segs))}
	for i, seg := range segs {
		resp.Segments[i] = segmentResponse(seg)
	}
	c.PureJSON(http.StatusOK, resp)
}

// getSegment is GET /v1/sites/{site}/segments/{id}.
func (h *handlers) getSegment(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	seg, err := h.segments.Segment(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	c.Header("ETag", etag(seg.Version))
	c.PureJSON(http.StatusOK, segmentResponse(seg))
}

// createSegment is POST /v1/sites/{site}/segments.
func (h *handlers) createSegment(c *gin.Context) {
	var req SegmentRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	in, ok := h.checkSegment(ctx, c, req, "")
	if !ok {
		return
	}
	seg, err := h.segments.CreateSegment(ctx, c.Param("site"), in)
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	h.audit(c, "segment.create", seg.ID, gin.H{"name": seg.Name, "version": seg.Version})
	c.Header("ETag", etag(seg.Version))
	c.Header("Location", "/v1/sites/"+seg.SiteID+"/segments/"+seg.ID)
	c.PureJSON(http.StatusCreated, segmentResponse(seg))
}

// updateSegment is PUT /v1/sites/{site}/segments/{id}: it replaces name,
// description and rule; with If-Match only if the version is still that one.
func (h *handlers) updateSegment(c *gin.Context) {
	ifVersion, prob := parseIfMatch(c.GetHeader("If-Match"))
	if prob != nil {
		refuse(c, http.StatusBadRequest, *prob)
		return
	}
	var req SegmentRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site, id := c.Param("site"), c.Param("id")
	if _, err := h.segments.Segment(ctx, site, id); err != nil {
		h.storeFailure(c, err)
		return
	}
	in, ok := h.checkSegment(ctx, c, req, id)
	if !ok {
		return
	}
	seg, err := h.segments.UpdateSegment(ctx, site, id, in, ifVersion)
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	h.audit(c, "segment.update", seg.ID, gin.H{"name": seg.Name, "version": seg.Version})
	c.Header("ETag", etag(seg.Version))
	c.PureJSON(http.StatusOK, segmentResponse(seg))
}

// deleteSegment is DELETE /v1/sites/{site}/segments/{id}. A segment that
// another live segment refers to stays (409 naming the referrers).
func (h *handlers) deleteSegment(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site, id := c.Param("site"), c.Param("id")
	if _, err := h.segments.Segment(ctx, site, id); err != nil {
		h.storeFailure(c, err)
		return
	}
	rules, err := h.loadSiteRules(ctx, site)
	if err != nil {
		h.storeFailure(c, err)
		return
	}
	if refs := rules.referrers(id); len(refs) > 0 {
		names := make([]string, len(refs))
		for i, r := range refs {
			names[i] = fmt.Sprintf("%q (%s)", r.Name, r.ID)
		}
		refuse(c, http.StatusConflict, Problem{"id", "other segments refer to this one: " +
			strings.Join(names, ", ") + "; change or delete them first"})
		return
	}
	if err := h.segments.DeleteSegment(ctx, site, id); err != nil {
		h.storeFailure(c, err)
		return
	}
	h.audit(c, "segment.delete", id, nil)
	c.Status(http.StatusNoContent)
}

// checkSegment validates a create or update of segment id ("" for a new
// one), answering 400 with every problem itself; it returns what to store,
// with the rule in its canonical JSON form.
func (h *handlers) checkSegment(ctx context.Context, c *gin.Context, req SegmentRequest, id string) (controlplane.NewSegment, bool) {
	probs := checkSegmentFields(req)
	r, ruleProbs := parseRule(req.Rule, req.Text)
	if len(ruleProbs) == 0 {
		var ok bool
		if ruleProbs, ok = h.checkInSite(ctx, c, ruleField(req.Text), id, r, h.now()); !ok {
			return controlplane.NewSegment{}, false
		}
	}
	if probs = append(probs, ruleProbs...); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return controlplane.NewSegment{}, false
	}
	canonical, err := json.Marshal(r)
	if err != nil {
		h.internalError(c, fmt.Errorf("encode segment rule: %w", err))
		return controlplane.NewSegment{}, false
	}
	return controlplane.NewSegment{Name: req.Name, Description: req.Description, Rule: canonical}, true
}

// checkInSite checks r against the site's segments (see checkRule). It
// answers the request itself and returns false when the check could not be
// made.
func (h *handlers) checkInSite(ctx context.Context, c *gin.Context, field, id string, r segments.Rule, at time.Time) ([]Problem, bool) {
	rules, err := h.loadSiteRules(ctx, c.Param("site"))
	if err != nil {
		h.storeFailure(c, err)
		return nil, false
	}
	_, probs, err := rules.checkRule(field, id, r, at)
	if err != nil {
		h.internalError(c, err)
		return nil, false
	}
	return probs, true
}

// ruleField is the body field the rule came in.
func ruleField(text *string) string {
	if text != nil {
		return "text"
	}
	return "rule"
}

// storeFailure answers for a failed control-plane call.
func (h *handlers) storeFailure(c *gin.Context, err error) {
	switch {
	case errors.Is(err, controlplane.ErrNotFound):
		refuse(c, http.StatusNotFound, Problem{"id", "this site has no segment with this id"})
	case errors.Is(err, controlplane.ErrDuplicate):
		refuse(c, http.StatusConflict, Problem{"name", "another segment of this site has this name"})
	case errors.Is(err, controlplane.ErrConflict):
		refuse(c, http.StatusConflict, Problem{"If-Match", "the segment has changed since that version; read it again"})
	case errors.Is(err, context.DeadlineExceeded):
		_ = c.Error(err)
		refuse(c, http.StatusGatewayTimeout, Problem{"", "the segments could not be read in time; retry later"})
	default:
		_ = c.Error(err)
		refuse(c, http.StatusInternalServerError, Problem{"", "the segments could not be read or written; retry later"})
	}
}

// queryFailure answers for a failed ClickHouse query.
func (h *handlers) queryFailure(c *gin.Context, err error) {
	_ = c.Error(err)
	if errors.Is(err, context.DeadlineExceeded) {
		refuse(c, http.StatusGatewayTimeout, Problem{"", "the query took too long; retry later"})
		return
	}
	refuse(c, http.StatusInternalServerError, Problem{"", "the segment data could not be read; retry later"})
}

func (h *handlers) internalError(c *gin.Context, err error) {
	_ = c.Error(err)
	refuse(c, http.StatusInternalServerError, Problem{"", "internal error"})
}
