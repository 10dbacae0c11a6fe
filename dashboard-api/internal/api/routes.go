package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/backtest"
	"github.com/pushpipe/pushpipe/internal/httpx"
)

// Paths served.
const (
	PathOverview       = "/v1/sites/:site/stats/overview"
	PathSegments       = "/v1/sites/:site/segments"
	PathSegment        = "/v1/sites/:site/segments/:id"
	PathSegmentPreview = "/v1/sites/:site/segments/preview"
	PathSegmentMembers = "/v1/sites/:site/segments/:id/members"
	PathSegmentExplain = "/v1/sites/:site/segments/:id/explain"
	PathHealthz        = "/healthz"

	PathAutomations        = "/v1/sites/:site/automations"
	PathAutomation         = "/v1/sites/:site/automations/:id"
	PathAutomationStatus   = "/v1/sites/:site/automations/:id/status"
	PathAutomationVersion  = "/v1/sites/:site/automations/:id/versions/:version"
	PathAutomationBacktest = "/v1/sites/:site/automations/:id/backtest"
	PathDefinitionBacktest = "/v1/sites/:site/automations/backtest"
	PathCampaigns          = "/v1/sites/:site/campaigns"
	PathCampaign           = "/v1/sites/:site/campaigns/:id"
	PathCampaignSchedule   = "/v1/sites/:site/campaigns/:id/schedule"
	PathCampaignCancel     = "/v1/sites/:site/campaigns/:id/cancel"
	PathCampaignProgress   = "/v1/sites/:site/campaigns/:id/progress"
	PathSettings           = "/v1/sites/:site/settings"
	PathAttribution        = "/v1/sites/:site/reports/attribution"
)

// maxBody caps request bodies (segment definitions and previews).
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
	site.GET("/segments", h.listSegments)
	site.POST("/segments", h.createSegment)
	site.POST("/segments/preview", h.previewSegment)
	site.GET("/segments/:id", h.getSegment)
	site.PUT("/segments/:id", h.updateSegment)
	site.DELETE("/segments/:id", h.deleteSegment)
	site.GET("/segments/:id/members", h.segmentMembers)
	site.GET("/segments/:id/explain", h.explainSegment)

	site.GET("/automations", h.listAutomations)
	site.POST("/automations", h.createAutomation)
	site.POST("/automations/backtest", h.backtestDefinition)
	site.GET("/automations/:id", h.getAutomation)
	site.PUT("/automations/:id", h.updateAutomation)
	site.DELETE("/automations/:id", h.deleteAutomation)
	site.POST("/automations/:id/status", h.setAutomationStatus)
	site.GET("/automations/:id/versions/:version", h.automationVersion)
	site.POST("/automations/:id/backtest", h.backtestAutomation)

	site.GET("/campaigns", h.listCampaigns)
	site.POST("/campaigns", h.createCampaign)
	site.GET("/campaigns/:id", h.getCampaign)
	site.PUT("/campaigns/:id", h.updateCampaign)
	site.DELETE("/campaigns/:id", h.deleteCampaign)
	site.POST("/campaigns/:id/schedule", h.scheduleCampaign)
	site.POST("/campaigns/:id/cancel", h.cancelCampaign)
	site.GET("/campaigns/:id/progress", h.campaignProgress)

	site.GET("/settings", h.getSettings)
	site.PUT("/settings", h.updateSettings)
	site.GET("/reports/attribution", h.attribution)

	e.NoRoute(func(c *gin.Context) { refuse(c, http.StatusNotFound, Problem{"", "no such route"}) })
	e.NoMethod(func(c *gin.Context) { refuse(c, http.StatusMethodNotAllowed, Problem{"", "method not allowed"}) })
	return e
}

// handlers holds what the route handlers share.
type handlers struct {
	stats        StatsQuerier
	segments     SegmentStore
	data         SegmentData
	automations  AutomationStore
	campaigns    CampaignStore
	settings     SettingsStore
	reports      Reports
	backtests    backtest.Source
	log          *slog.Logger
	now          func() time.Time
	queryTimeout time.Duration
}

func newHandlers(d Deps) *handlers {
	h := &handlers{
		stats: d.Stats, segments: d.Segments, data: d.SegmentData,
		automations: d.Automations, campaigns: d.Campaigns, settings: d.Settings, reports: d.Reports, backtests: d.Backtests,
		log: d.Log, now: d.Now, queryTimeout: d.QueryTimeout,
	}
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
