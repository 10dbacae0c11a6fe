package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// AutomationRequest is the body of POST /v1/sites/{site}/automations and of
// PUT on an automation: a name, the definition (JSON form of
// automation.Automation) and optionally a status (enabled, paused,
// disabled; default paused on create, unchanged on update).
type AutomationRequest struct {
	Name       string          `json:"name"`
	Status     string          `json:"status,omitempty"`
	Definition json.RawMessage `json:"definition"`
}

// AutomationResponse is an automation as the API shows it: the current
// version's definition. Version is also the ETag, which If-Match takes back.
type AutomationResponse struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Status     string          `json:"status"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
	CreatedAt  string          `json:"created_at"`
	UpdatedAt  string          `json:"updated_at"`
}

// AutomationListResponse is the answer to GET /v1/sites/{site}/automations.
type AutomationListResponse struct {
	Automations []AutomationResponse `json:"automations"`
}

// AutomationVersionResponse is one stored version of an automation.
type AutomationVersionResponse struct {
	ID         string          `json:"id"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
}

// StatusRequest is the body of POST /v1/sites/{site}/automations/{id}/status.
type StatusRequest struct {
	Status string `json:"status"`
}

const nounAutomation = "automation"

func automationResponse(a controlplane.Automation) AutomationResponse {
	return AutomationResponse{
		ID: a.ID, Name: a.Name, Status: a.Status, Version: a.Version, Definition: a.Definition,
		CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: a.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

// listAutomations is GET /v1/sites/{site}/automations.
func (h *handlers) listAutomations(c *gin.Context) {
	if probs := knownParams(c.Request.URL.Query()); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	list, err := h.automations.Automations(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	resp := AutomationListResponse{Automations: make([]AutomationResponse, len(list))}
	for i, a := range list {
		resp.Automations[i] = automationResponse(a)
	}
	c.PureJSON(http.StatusOK, resp)
}

// getAutomation is GET /v1/sites/{site}/automations/{id}.
func (h *handlers) getAutomation(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	a, err := h.automations.Automation(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	c.Header("ETag", etag(a.Version))
	c.PureJSON(http.StatusOK, automationResponse(a))
}

// createAutomation is POST /v1/sites/{site}/automations.
func (h *handlers) createAutomation(c *gin.Context) {
	var req AutomationRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	in, ok := h.checkAutomation(ctx, c, req)
	if !ok {
		return
	}
	a, err := h.automations.CreateAutomation(ctx, c.Param("site"), in)
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	h.audit(c, "automation.create", a.ID, gin.H{"name": a.Name, "status": a.Status, "version": a.Version})
	c.Header("ETag", etag(a.Version))
	c.Header("Location", "/v1/sites/"+a.SiteID+"/automations/"+a.ID)
	c.PureJSON(http.StatusCreated, automationResponse(a))
}

// updateAutomation is PUT /v1/sites/{site}/automations/{id}: a new version
// (the previous ones are kept: runs under way go on with theirs); with
// If-Match only if the version is still that one.
func (h *handlers) updateAutomation(c *gin.Context) {
	ifVersion, prob := parseIfMatch(c.GetHeader("If-Match"))
	if prob != nil {
		refuse(c, http.StatusBadRequest, *prob)
		return
	}
	var req AutomationRequest
	if !decodeBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	site, id := c.Param("site"), c.Param("id")
	if _, err := h.automations.Automation(ctx, site, id); err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	in, ok := h.checkAutomation(ctx, c, req)
	if !ok {
		return
	}
	a, err := h.automations.UpdateAutomation(ctx, site, id, in, ifVersion)
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	h.audit(c, "automation.update", a.ID, gin.H{"name": a.Name, "status": a.Status, "version": a.Version})
	c.Header("ETag", etag(a.Version))
	c.PureJSON(http.StatusOK, automationResponse(a))
}

// deleteAutomation is DELETE /v1/sites/{site}/automations/{id}.
func (h *handlers) deleteAutomation(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	if err := h.automations.DeleteAutomation(ctx, c.Param("site"), c.Param("id")); err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	h.audit(c, "automation.delete", c.Param("id"), nil)
	c.Status(http.StatusNoContent)
}

// setAutomationStatus is POST /v1/sites/{site}/automations/{id}/status {status}.
func (h *handlers) setAutomationStatus(c *gin.Context) {
	var req StatusRequest
	if !decodeBody(c, &req) {
		return
	}
	if prob := checkStatus(req.Status, true); prob != nil {
		refuse(c, http.StatusBadRequest, *prob)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	a, err := h.automations.SetAutomationStatus(ctx, c.Param("site"), c.Param("id"), req.Status)
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	h.audit(c, "automation.status", a.ID, gin.H{"status": a.Status})
	c.Header("ETag", etag(a.Version))
	c.PureJSON(http.StatusOK, automationResponse(a))
}

// automationVersion is GET /v1/sites/{site}/automations/{id}/versions/{version}.
func (h *handlers) automationVersion(c *gin.Context) {
	v, err := strconv.Atoi(c.Param("version"))
	if err != nil || v <= 0 {
		refuse(c, http.StatusBadRequest, Problem{"version", fmt.Sprintf("%q is not a version (a positive integer)", c.Param("version"))})
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	a, err := h.automations.Automation(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	def, err := h.automations.AutomationVersion(ctx, a.ID, v)
	if err != nil {
		if errors.Is(err, controlplane.ErrNotFound) {
			refuse(c, http.StatusNotFound, Problem{"version", fmt.Sprintf("this automation has no version %d (the current one is %d)", v, a.Version)})
			return
		}
		h.failure(c, err, nounAutomation)
		return
	}
	c.PureJSON(http.StatusOK, AutomationVersionResponse{ID: a.ID, Version: v, Definition: def})
}

// checkStatus checks an automation status; "" is allowed unless required.
func checkStatus(s string, required bool) *Problem {
	switch s {
	case controlplane.AutomationEnabled, controlplane.AutomationPaused, controlplane.AutomationDisabled:
		return nil
	case "":
		if !required {
			return nil
		}
		return &Problem{"status", "missing: enabled, paused or disabled"}
	}
	return &Problem{"status", fmt.Sprintf("%q is not enabled, paused or disabled", s)}
}

// checkAutomation validates a create or update, answering 400 with every
// problem itself; it returns what to store, with the definition in its
// canonical JSON form.
func (h *handlers) checkAutomation(ctx context.Context, c *gin.Context, req AutomationRequest) (controlplane.NewAutomation, bool) {
	probs := checkName(req.Name, nounAutomation)
	if prob := checkStatus(req.Status, false); prob != nil {
		probs = append(probs, *prob)
	}
	a, defProbs, ok := h.checkDefinition(ctx, c, req.Definition)
	if !ok {
		return controlplane.NewAutomation{}, false
	}
	if probs = append(probs, defProbs...); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return controlplane.NewAutomation{}, false
	}
	canonical, err := json.Marshal(a)
	if err != nil {
		h.internalError(c, fmt.Errorf("encode automation definition: %w", err))
		return controlplane.NewAutomation{}, false
	}
	return controlplane.NewAutomation{Name: req.Name, Status: req.Status, Definition: canonical}, true
}

// checkDefinition parses and validates an automation definition (problems
// under "definition."), and checks that the segments it names are live
// segments of the site. It answers the request itself and returns false
// when the check could not be made.
func (h *handlers) checkDefinition(ctx context.Context, c *gin.Context, raw json.RawMessage) (automation.Automation, []Problem, bool) {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return automation.Automation{}, []Problem{{"definition", "missing: give the automation's trigger and steps"}}, true
	}
	a, aprobs := automation.ParseAutomation(raw)
	if len(aprobs) > 0 {
		probs := make([]Problem, len(aprobs))
		for i, p := range aprobs {
			probs[i] = Problem{joinField("definition", p.Path), p.Problem}
		}
		return a, probs, true
	}
	live, err := h.liveSegmentIDs(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "segment")
		return a, nil, false
	}
	var refs []segmentRef
	if a.Trigger.Kind == automation.TriggerSegmentEntered || a.Trigger.Kind == automation.TriggerSegmentExited {
		refs = append(refs, segmentRef{"trigger.segment", a.Trigger.Segment})
	}
	for i, s := range a.Steps {
		refs = append(refs, segmentRef{fmt.Sprintf("steps[%d].still_in_segment", i), s.StillInSegment})
	}
	return a, unknownSegments("definition", refs, live), true
}
