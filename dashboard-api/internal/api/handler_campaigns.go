package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/reports"
	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// CampaignRequest is the body of POST /v1/sites/{site}/campaigns and of PUT
// on a campaign: a name and the definition (JSON form of automation.Campaign).
type CampaignRequest struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// CampaignResponse is a campaign as the API shows it. SendAt is the
// schedule's absolute time (null: as soon as it is scheduled); StartedAt and
// FinishedAt are null until then.
type CampaignResponse struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Status     string          `json:"status"`
	Definition json.RawMessage `json:"definition"`
	SendAt     *string         `json:"send_at"`
	Total      int             `json:"total"`
	CreatedAt  string          `json:"created_at"`
	UpdatedAt  string          `json:"updated_at"`
	StartedAt  *string         `json:"started_at"`
	FinishedAt *string         `json:"finished_at"`
}

// CampaignListResponse is the answer to GET /v1/sites/{site}/campaigns,
// newest first.
type CampaignListResponse struct {
	Campaigns []CampaignResponse `json:"campaigns"`
}

// ProgressResponse is the answer to GET .../campaigns/{id}/progress. From
// the control plane: Total (pushes the fan-out made, or made so far), Pending, Queued
// (handed to the sender), Skipped, HeldOut, Cancelled; from the events:
// Sent (accepted by the push service), Failed, Delivered (shown), Clicked
// (distinct pushes).
type ProgressResponse struct {
	Status    string `json:"status"`
	Total     int    `json:"total"`
	Pending   int    `json:"pending"`
	Queued    int    `json:"queued"`
	Skipped   int    `json:"skipped"`
	HeldOut   int    `json:"held_out"`
	Cancelled int    `json:"cancelled"`
	Sent      uint64 `json:"sent"`
	Failed    uint64 `json:"failed"`
	Delivered uint64 `json:"delivered"`
	Clicked   uint64 `json:"clicked"`
}

const nounCampaign = "campaign"

func campaignResponse(cp controlplane.Campaign) CampaignResponse {
	return CampaignResponse{
		ID: cp.ID, Name: cp.Name, Status: cp.Status, Definition: cp.Definition, SendAt: optTime(cp.SendAt), Total: cp.Total,
		CreatedAt: cp.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: cp.UpdatedAt.UTC().Format(time.RFC3339Nano),
		StartedAt: optTime(cp.StartedAt), FinishedAt: optTime(cp.FinishedAt),
	}
}

// listCampaigns is GET /v1/sites/{site}/campaigns.
func (h *handlers) listCampaigns(c *gin.Context) {
	if probs := knownParams(c.Request.URL.Query()); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	list, err := h.campaigns.Campaigns(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, nounCampaign)
		return
	}
	resp := CampaignListResponse{Campaigns: make([]CampaignResponse, len(list))}
	for i, cp := range list {
		resp.Campaigns[i] = campaignResponse(cp)
	}
	c.PureJSON(http.StatusOK, resp)
}

// getCampaign is GET /v1/sites/{site}/campaigns/{id}.
func (h *handlers) getCampaign(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	cp, err := h.campaigns.Campaign(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.failure(c, err, nounCampaign)
		return
	}
	c.PureJSON(http.StatusOK, campaignResponse(cp))
}

// createCampaign is POST /v1/sites/{site}/campaigns: a draft.
func (h *handlers) createCampaign(c *gin.Context) {
	var req CampaignRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	in, ok := h.checkCampaign(ctx, c, req)
	if !ok {
		return
	}
	cp, err := h.campaigns.CreateCampaign(ctx, c.Param("site"), in)
	if err != nil {
		h.failure(c, err, nounCampaign)
		return
	}
	h.audit(c, "campaign.create", cp.ID, gin.H{"name": cp.Name, "status": cp.Status})
	c.Header("Location", "/v1/sites/"+cp.SiteID+"/campaigns/"+cp.ID)
	c.PureJSON(http.StatusCreated, campaignResponse(cp))
}

// updateCampaign is PUT /v1/sites/{site}/campaigns/{id}: only while the
// campaign is a draft or scheduled (409 otherwise).
func (h *handlers) updateCampaign(c *gin.Context) {
	var req CampaignRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site, id := c.Param("site"), c.Param("id")
	cp, err := h.campaigns.Campaign(ctx, site, id)
	if err != nil {
		h.failure(c, err, nounCampaign)
		return
	}
	if cp.Status != controlplane.CampaignDraft && cp.Status != controlplane.CampaignScheduled {
		refuseState(c, cp.Status, "changed only while draft or scheduled")
		return
	}
	in, ok := h.checkCampaign(ctx, c, req)
	if !ok {
		return
	}
	if cp, err = h.campaigns.UpdateCampaign(ctx, site, id, in); err != nil {
		h.campaignStateFailure(ctx, c, err, "changed only while draft or scheduled")
		return
	}
	h.audit(c, "campaign.update", cp.ID, gin.H{"name": cp.Name, "status": cp.Status})
	c.PureJSON(http.StatusOK, campaignResponse(cp))
}

// deleteCampaign is DELETE /v1/sites/{site}/campaigns/{id}: drafts only.
func (h *handlers) deleteCampaign(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	if err := h.campaigns.DeleteCampaign(ctx, c.Param("site"), c.Param("id")); err != nil {
		h.campaignStateFailure(ctx, c, err, "deleted only while a draft; cancel it instead")
		return
	}
	h.audit(c, "campaign.delete", c.Param("id"), nil)
	c.Status(http.StatusNoContent)
}

// scheduleCampaign is POST .../campaigns/{id}/schedule: draft to scheduled.
func (h *handlers) scheduleCampaign(c *gin.Context) {
	h.campaignTransition(c, "campaign.schedule", h.campaigns.ScheduleCampaign, "scheduled only from draft")
}

// cancelCampaign is POST .../campaigns/{id}/cancel: its pending pushes are
// cancelled too.
func (h *handlers) cancelCampaign(c *gin.Context) {
	h.campaignTransition(c, "campaign.cancel", h.campaigns.CancelCampaign, "cancelled only before it is done")
}

func (h *handlers) campaignTransition(c *gin.Context, action string, change func(context.Context, string, string) (controlplane.Campaign, error), rule string) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	cp, err := change(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.campaignStateFailure(ctx, c, err, rule)
		return
	}
	h.audit(c, action, cp.ID, gin.H{"status": cp.Status})
	c.PureJSON(http.StatusOK, campaignResponse(cp))
}

// campaignProgress is GET .../campaigns/{id}/progress.
func (h *handlers) campaignProgress(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site := c.Param("site")
	cp, err := h.campaigns.Campaign(ctx, site, c.Param("id"))
	if err != nil {
		h.failure(c, err, nounCampaign)
		return
	}
	p, err := h.campaigns.CampaignProgress(ctx, site, cp.ID)
	if err != nil {
		h.failure(c, err, nounCampaign)
		return
	}
	counts, err := h.reports.Campaign(ctx, reports.CampaignQuery{SiteID: site, CampaignID: cp.ID, Since: cp.CreatedAt})
	if err != nil {
		h.queryFailure(c, err)
		return
	}
	// The fan-out records its total when it ends; before that, the rows so far.
	total := max(p.Total, p.Pending+p.Sent+p.Skipped+p.HeldOut+p.Cancelled)
	c.PureJSON(http.StatusOK, ProgressResponse{
		Status: cp.Status, Total: total, Pending: p.Pending, Queued: p.Sent, Skipped: p.Skipped, HeldOut: p.HeldOut,
		Cancelled: p.Cancelled, Sent: counts.Sent, Failed: counts.Failed, Delivered: counts.Delivered, Clicked: counts.Clicked,
	})
}

// campaignStateFailure answers a failed change; a refusal for the
// campaign's status names the status it is in.
func (h *handlers) campaignStateFailure(ctx context.Context, c *gin.Context, err error, rule string) {
	if !errors.Is(err, controlplane.ErrState) {
		h.failure(c, err, nounCampaign)
		return
	}
	status := "in another status"
	if cp, err := h.campaigns.Campaign(ctx, c.Param("site"), c.Param("id")); err == nil {
		status = cp.Status
	}
	refuseState(c, status, rule)
}

func refuseState(c *gin.Context, status, rule string) {
	refuse(c, http.StatusConflict, Problem{"status", fmt.Sprintf("the campaign is %s; a campaign can be %s", status, rule)})
}

// checkCampaign validates a create or update, answering 400 with every
// problem itself; it returns what to store, with the definition in its
// canonical JSON form.
func (h *handlers) checkCampaign(ctx context.Context, c *gin.Context, req CampaignRequest) (controlplane.NewCampaign, bool) {
	probs := checkName(req.Name, nounCampaign)
	if len(req.Definition) == 0 || bytes.Equal(bytes.TrimSpace(req.Definition), []byte("null")) {
		refuse(c, http.StatusBadRequest, append(probs, Problem{"definition", "missing: give the campaign's variants and segments"})...)
		return controlplane.NewCampaign{}, false
	}
	cp, cprobs := automation.ParseCampaign(req.Definition)
	for _, p := range cprobs {
		probs = append(probs, Problem{joinField("definition", p.Path), p.Problem})
	}
	if len(cprobs) == 0 {
		live, err := h.liveSegmentIDs(ctx, c.Param("site"))
		if err != nil {
			h.failure(c, err, "segment")
			return controlplane.NewCampaign{}, false
		}
		var refs []segmentRef
		for i, id := range cp.Include {
			refs = append(refs, segmentRef{fmt.Sprintf("include[%d]", i), id})
		}
		for i, id := range cp.Exclude {
			refs = append(refs, segmentRef{fmt.Sprintf("exclude[%d]", i), id})
		}
		probs = append(probs, unknownSegments("definition", refs, live)...)
	}
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return controlplane.NewCampaign{}, false
	}
	canonical, err := json.Marshal(cp)
	if err != nil {
		h.internalError(c, fmt.Errorf("encode campaign definition: %w", err))
		return controlplane.NewCampaign{}, false
	}
	return controlplane.NewCampaign{Name: req.Name, Definition: canonical}, true
}
