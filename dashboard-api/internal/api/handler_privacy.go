package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/privacy"
)

// Paths of the privacy operations on one subscriber (owners only).
const (
	PathSubscriber       = "/v1/sites/:site/subscribers/:id"
	PathSubscriberExport = "/v1/sites/:site/subscribers/:id/export"
)

// Privacy exports and erases everything stored about one subscriber.
// *privacy.Store is one.
type Privacy interface {
	Exists(ctx context.Context, sub privacy.Subject) (bool, error)
	Export(ctx context.Context, sub privacy.Subject, w io.Writer) error
	Erase(ctx context.Context, sub privacy.Subject) (privacy.Erased, error)
}

// Budgets of the privacy operations: an export streams however many events
// the subscriber has; an erasure waits for ClickHouse mutations (seconds)
// and is not cut short by a client that goes away.
const (
	exportBudget = 30 * time.Minute
	eraseBudget  = 2 * time.Minute
	maxIDLen     = 512
)

// ErasureResponse answers DELETE /v1/sites/{site}/subscribers/{id}: the rows
// deleted per store and table (all 0 when the subscriber was already erased)
// and what the erasure cannot reach.
type ErasureResponse struct {
	SubscriberID string         `json:"subscriber_id"`
	Erased       privacy.Erased `json:"erased"`
	Total        int64          `json:"total"`
	Remains      []string       `json:"remains"`
}

// erasureRemains is what an erasure leaves, as DESIGN.md explains.
var erasureRemains = []string{
	"raw events in the Kafka events topic until its retention expires",
	"database backups taken before the erasure, until they expire",
	"hourly rollups (counts and distinct-subscriber sketches without subscriber ids)",
	"events in flight (in Kafka, not yet stored) when the erasure ran: erase again a minute later",
}

func registerPrivacy(_, _, owner *gin.RouterGroup, h *handlers) {
	owner.GET("/subscribers/:id/export", h.exportSubscriber)
	owner.DELETE("/subscribers/:id", h.eraseSubscriber)
}

// subject reads the path's site and subscriber id; false when refused.
func subject(c *gin.Context) (privacy.Subject, bool) {
	id := c.Param("id")
	if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) {
		refuse(c, http.StatusBadRequest, Problem{"id", "must be a subscriber id: 1 to 512 bytes of UTF-8"})
		return privacy.Subject{}, false
	}
	return privacy.Subject{SiteID: c.Param("site"), SubscriberID: id}, true
}

// exportSubscriber is GET /v1/sites/{site}/subscribers/{id}/export: one JSON
// document, streamed (see privacy.Store.Export); 404 when nothing is stored.
func (h *handlers) exportSubscriber(c *gin.Context) {
	if h.privacy == nil {
		refuse(c, http.StatusServiceUnavailable, Problem{"", "privacy operations are not configured"})
		return
	}
	sub, ok := subject(c)
	if !ok {
		return
	}
	if probs := knownParams(c.Request.URL.Query()); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	found, err := h.privacy.Exists(ctx, sub)
	cancel()
	if err != nil {
		h.privacyFailure(c, err, "looked up")
		return
	}
	if !found {
		refuse(c, http.StatusNotFound, Problem{"id", "this site stores nothing about a subscriber with this id"})
		return
	}
	// The server's write timeout is sized for queries; an export may stream longer.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(h.now().Add(exportBudget))
	ctx, cancel = context.WithTimeout(c.Request.Context(), exportBudget)
	defer cancel()
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="subscriber-export.json"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := h.privacy.Export(ctx, sub, c.Writer); err != nil {
		// The status is sent; the document ends with "complete": false.
		h.log.Error("subscriber export cut short", "site", sub.SiteID, "err", err)
	}
}

// eraseSubscriber is DELETE /v1/sites/{site}/subscribers/{id}: erases the
// subscriber everywhere (see privacy.Store.Erase), records it in the audit
// log, and answers 202 with the counts. Idempotent.
func (h *handlers) eraseSubscriber(c *gin.Context) {
	if h.privacy == nil {
		refuse(c, http.StatusServiceUnavailable, Problem{"", "privacy operations are not configured"})
		return
	}
	sub, ok := subject(c)
	if !ok {
		return
	}
	if probs := knownParams(c.Request.URL.Query()); len(probs) > 0 {
		refuse(c, http.StatusBadRequest, probs...)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), eraseBudget)
	defer cancel()
	erased, err := h.privacy.Erase(ctx, sub)
	if err != nil {
		h.privacyFailure(c, err, "erased")
		return
	}
	h.audit(c, "subscriber.erase", erasureTarget(sub), gin.H{"total": erased.Total(), "erased": erased})
	c.JSON(http.StatusAccepted, ErasureResponse{
		SubscriberID: sub.SubscriberID, Erased: erased, Total: erased.Total(), Remains: erasureRemains,
	})
}

// erasureTarget names the erased subscriber in the audit log by a hash of
// its id: the log proves the erasure (hash the id to check) without keeping
// the id itself.
func erasureTarget(sub privacy.Subject) string {
	sum := sha256.Sum256([]byte(sub.SiteID + ":" + sub.SubscriberID))
	return "subscriber:sha256:" + hex.EncodeToString(sum[:])
}

func (h *handlers) privacyFailure(c *gin.Context, err error, what string) {
	_ = c.Error(err)
	if errors.Is(err, context.DeadlineExceeded) {
		refuse(c, http.StatusGatewayTimeout, Problem{"", "the subscriber could not be " + what + " in time; retry later"})
		return
	}
	refuse(c, http.StatusServiceUnavailable, Problem{"", "the subscriber could not be " + what + "; retry later (an erasure may be retried: it is idempotent)"})
}
