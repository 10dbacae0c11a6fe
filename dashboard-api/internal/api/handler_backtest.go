package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/backtest"
	"github.com/pushpipe/pushpipe/internal/automation"
)

// BacktestRequest is the body of POST .../automations/{id}/backtest (the
// stored definition, or Definition when given) and of POST
// .../automations/backtest (Definition required): the range to replay,
// RFC 3339, at most 31 days; default the 7 days before now.
type BacktestRequest struct {
	From       string          `json:"from,omitempty"`
	To         string          `json:"to,omitempty"`
	Definition json.RawMessage `json:"definition,omitempty"`
}

// BacktestResponse is what the automation would have done, per day of the
// site's default timezone, after the delivery policy; nothing was sent.
type BacktestResponse struct {
	AutomationID string         `json:"automation_id"` // "" for an unsaved definition
	Version      int            `json:"version"`       // 0 for an unsaved definition
	From         string         `json:"from"`
	To           string         `json:"to"`
	Days         []backtest.Day `json:"days"`
	Total        backtest.Day   `json:"total"`
}

// backtestAutomation is POST /v1/sites/{site}/automations/{id}/backtest.
func (h *handlers) backtestAutomation(c *gin.Context) {
	var req BacktestRequest
	if !decodeOptionalBody(c, &req) {
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	a, err := h.automations.Automation(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.failure(c, err, nounAutomation)
		return
	}
	def, version := a.Definition, a.Version
	if hasJSON(req.Definition) {
		def, version = req.Definition, 0
	}
	h.backtest(c, req, def, a.ID, version)
}

// backtestDefinition is POST /v1/sites/{site}/automations/backtest: an
// unsaved definition.
func (h *handlers) backtestDefinition(c *gin.Context) {
	var req BacktestRequest
	if !decodeBody(c, &req) {
		return
	}
	h.backtest(c, req, req.Definition, "", 0)
}

// backtest checks the range and the definition and runs it.
func (h *handlers) backtest(c *gin.Context, req BacktestRequest, def json.RawMessage, id string, version int) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	from, to, probs := backtestRange(req, h.now())
	a, defProbs, ok := h.checkDefinition(ctx, c, def)
	if !ok {
		return
	}
	if probs = append(probs, defProbs...); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	site := c.Param("site")
	s, err := h.settings.SitePolicy(ctx, site)
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	res, err := backtest.Run(ctx, h.backtests, backtest.Request{
		SiteID: site, AutomationID: id, Automation: a, Policy: s.Policy, From: from, To: to,
	})
	switch {
	case errors.Is(err, backtest.ErrRange):
		refuse(c, http.StatusUnprocessableEntity, Problem{"to", fmt.Sprintf("a backtest covers at most %d days", int(backtest.MaxRange/(24*time.Hour)))})
		return
	case errors.Is(err, backtest.ErrTooManyEvents):
		refuse(c, http.StatusUnprocessableEntity, Problem{"from", fmt.Sprintf(
			"the range holds more than %d events this automation reads (warm-up of %s before from included); ask for a shorter range",
			backtest.MaxEvents, automation.Duration(backtest.WarmUp(a)))})
		return
	case err != nil:
		h.queryFailure(c, err)
		return
	}
	c.PureJSON(http.StatusOK, BacktestResponse{
		AutomationID: id, Version: version, From: from.Format(time.RFC3339Nano), To: to.Format(time.RFC3339Nano),
		Days: res.Days, Total: res.Total,
	})
}

// backtestRange reads from and to (default the 7 days before now); the
// length is checked by backtest.Run (422).
func backtestRange(req BacktestRequest, now time.Time) (time.Time, time.Time, []Problem) {
	var probs []Problem
	to, prob := parseAt("to", req.To, now)
	if prob != nil {
		probs = append(probs, *prob)
	}
	from := to.Add(-DefaultReportRange)
	if req.From != "" {
		if from, prob = parseAt("from", req.From, now); prob != nil {
			probs = append(probs, *prob)
		}
	}
	if len(probs) == 0 && !from.Before(to) {
		probs = append(probs, Problem{"from", "must be before to"})
	}
	return from, to, probs
}

// decodeOptionalBody decodes a JSON object body when there is one (an
// empty or blank body leaves v as it is).
func decodeOptionalBody(c *gin.Context, v any) bool {
	body, err := io.ReadAll(c.Request.Body)
	if err == nil && len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	c.Request.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
	return decodeBody(c, v)
}

// errReader fails with err, or ends (io.EOF) when err is nil.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err == nil {
		return 0, io.EOF
	}
	return 0, r.err
}

func hasJSON(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
