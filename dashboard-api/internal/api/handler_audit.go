package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Page sizes of the audit log.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 500
)

// AuditEntryResponse is one change in the audit log.
type AuditEntryResponse struct {
	Actor     string          `json:"actor"` // account:<id> or key:<id>
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Detail    json.RawMessage `json:"detail"`
	CreatedAt string          `json:"created_at"`
}

// AuditLogResponse is a page of the audit log, newest first; next_cursor
// (absent on the last page) fetches the next.
type AuditLogResponse struct {
	Entries    []AuditEntryResponse `json:"entries"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// audit records a change to the path's site by the caller. A change that
// was made is not undone when its entry cannot be written: the failure is
// logged at error level for the operator.
func (h *handlers) audit(c *gin.Context, action, target string, detail any) {
	h.auditAs(c, c.Param("site"), action, target, detail)
}

// auditAs is audit for a site that is not the path's (a new site).
func (h *handlers) auditAs(c *gin.Context, siteID, action, target string, detail any) {
	if h.auditor == nil {
		return
	}
	raw, err := json.Marshal(detail)
	if err != nil || detail == nil {
		raw = json.RawMessage(`{}`)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), lookupTimeout)
	defer cancel()
	e := controlplane.AuditEntry{SiteID: siteID, Actor: actor(c), Action: action, Target: target, Detail: raw}
	if err := h.auditor.Audit(ctx, e); err != nil {
		h.log.Error("audit entry not written", "site", siteID, "actor", e.Actor, "action", action, "target", target, "err", err)
	}
}

// auditLog is GET /v1/sites/{site}/audit?limit&cursor.
func (h *handlers) auditLog(c *gin.Context) {
	q := c.Request.URL.Query()
	if probs := knownParams(q, "limit", "cursor"); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	limit, before, probs := parsePage(q.Get("limit"), q.Get("cursor"))
	if len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	entries, err := h.auditor.AuditLog(ctx, c.Param("site"), before, limit+1)
	if err != nil {
		h.failure(c, err, "audit log")
		return
	}
	resp := AuditLogResponse{Entries: []AuditEntryResponse{}}
	for i, e := range entries {
		if i == limit {
			resp.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(entries[i-1].ID, 10)))
			break
		}
		resp.Entries = append(resp.Entries, AuditEntryResponse{
			Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, CreatedAt: utcTime(e.CreatedAt),
		})
	}
	c.PureJSON(http.StatusOK, resp)
}

// parsePage reads limit and an opaque cursor (an entry id).
func parsePage(limitS, cursor string) (int, int64, []Problem) {
	limit := defaultAuditLimit
	var probs []Problem
	if limitS != "" {
		n, err := strconv.Atoi(limitS)
		if err != nil || n < 1 || n > maxAuditLimit {
			probs = append(probs, Problem{"limit", "must be 1 to " + strconv.Itoa(maxAuditLimit)})
		}
		limit = n
	}
	var before int64
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		n, err2 := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || err2 != nil || n < 1 {
			probs = append(probs, Problem{"cursor", "is not a cursor of this list: use next_cursor of the previous page"})
		}
		before = n
	}
	return limit, before, probs
}

// utcTime writes a required instant as RFC 3339 in UTC.
func utcTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
