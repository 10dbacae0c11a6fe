package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/httpx"
)

// Paths served.
const (
	PathOverview = "/v1/sites/:site/stats/overview"
	PathHealthz  = "/healthz"
)

// maxBody caps request bodies; no route reads one yet.
const maxBody = 1 << 20

// NewRouter builds the HTTP handler of the API.
func NewRouter(d Deps) http.Handler {
	h := newHandlers(d)
	gin.SetMode(gin.ReleaseMode) // no debug banner; the mode is process-wide and idempotent
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(httpx.Recover(h.log, ctxAuthSite, func(c *gin.Context) {
		refuse(c, http.StatusInternalServerError, Problem{"", "internal error"})
	}), httpx.AccessLog(h.log, ctxAuthSite, true), limitBody(maxBody))
	e.GET(PathHealthz, func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })

	site := e.Group("/v1/sites/:site", requireAPIKey(d.Keys), requireSite())
	site.GET("/stats/overview", h.overview)

	e.NoRoute(func(c *gin.Context) { refuse(c, http.StatusNotFound, Problem{"", "no such route"}) })
	e.NoMethod(func(c *gin.Context) { refuse(c, http.StatusMethodNotAllowed, Problem{"", "method not allowed"}) })
	return e
}

// handlers holds what the route handlers share.
type handlers struct {
	stats        StatsQuerier
	log          *slog.Logger
	now          func() time.Time
	queryTimeout time.Duration
}

func newHandlers(d Deps) *handlers {
	h := &handlers{stats: d.Stats, log: d.Log, now: d.Now, queryTimeout: d.QueryTimeout}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.queryTimeout <= 0 {
		h.queryTimeout = 30 * time.Second
	}
	return h
}
