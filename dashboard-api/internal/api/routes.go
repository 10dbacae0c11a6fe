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
	_ = e.SetTrustedProxies(nil) // the client address is the peer's: X-Forwarded-For cannot dodge rate limits
	e.Use(httpx.Recover(h.log, ctxAuthSite, func(c *gin.Context) {
		refuse(c, http.StatusInternalServerError, Problem{"", "internal error"})
	}), httpx.AccessLog(h.log, ctxAuthSite, true), limitBody(maxBody))
	e.GET(PathHealthz, func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET(PathOpenAPI, serveOpenAPI(d.OpenAPI))
	registerUI(e, h)

	h.registerAccountRoutes(e.Group("/v1"))
	site := e.Group("/v1/sites/:site", h.authenticate(), rateLimit(h.limit, byPrincipal), h.requireSite())
	read, write, owner := site.Group("", requireAccess(accessRead)), site.Group("", requireAccess(accessWrite)), site.Group("", requireAccess(accessOwner))
	registerSiteRoutes(read, write, owner, h)
	registerTenancy(read, write, owner, h)
	registerPrivacy(read, write, owner, h)
	registerDashboards(read, write, owner, h)

	e.NoRoute(func(c *gin.Context) { refuse(c, http.StatusNotFound, Problem{"", "no such route"}) })
	e.NoMethod(func(c *gin.Context) { refuse(c, http.StatusMethodNotAllowed, Problem{"", "method not allowed"}) })
	return e
}

// registerSiteRoutes registers the routes of segments, automations,
// campaigns, settings and reports in the access groups.
func registerSiteRoutes(read, write, _ *gin.RouterGroup, h *handlers) {
	read.GET("/stats/overview", h.overview)
	read.GET("/segments", h.listSegments)
	write.POST("/segments", h.createSegment)
	read.POST("/segments/preview", h.previewSegment)
	read.GET("/segments/:id", h.getSegment)
	write.PUT("/segments/:id", h.updateSegment)
	write.DELETE("/segments/:id", h.deleteSegment)
	read.GET("/segments/:id/members", h.segmentMembers)
	read.GET("/segments/:id/explain", h.explainSegment)

	read.GET("/automations", h.listAutomations)
	write.POST("/automations", h.createAutomation)
	read.POST("/automations/backtest", h.backtestDefinition)
	read.GET("/automations/:id", h.getAutomation)
	write.PUT("/automations/:id", h.updateAutomation)
	write.DELETE("/automations/:id", h.deleteAutomation)
	write.POST("/automations/:id/status", h.setAutomationStatus)
	read.GET("/automations/:id/versions/:version", h.automationVersion)
	read.POST("/automations/:id/backtest", h.backtestAutomation)

	read.GET("/campaigns", h.listCampaigns)
	write.POST("/campaigns", h.createCampaign)
	read.GET("/campaigns/:id", h.getCampaign)
	write.PUT("/campaigns/:id", h.updateCampaign)
	write.DELETE("/campaigns/:id", h.deleteCampaign)
	write.POST("/campaigns/:id/schedule", h.scheduleCampaign)
	write.POST("/campaigns/:id/cancel", h.cancelCampaign)
	read.GET("/campaigns/:id/progress", h.campaignProgress)

	read.GET("/settings", h.getSettings)
	write.PUT("/settings", h.updateSettings)
	read.GET("/reports/attribution", h.attribution)
}

// registerTenancy registers the routes of the site itself, its API keys,
// members and invitations, and its audit log.
func registerTenancy(read, _, owner *gin.RouterGroup, h *handlers) {
	read.GET("", h.getSite)
	owner.PUT("", h.updateSite)
	read.GET("/snippet", h.getSnippet)

	owner.GET("/keys", h.listKeys)
	owner.POST("/keys", h.createKey)
	owner.DELETE("/keys/:id", h.revokeKey)

	owner.GET("/members", h.listMembers)
	owner.PUT("/members/:account", h.setRole)
	owner.DELETE("/members/:account", h.removeMember)
	owner.POST("/invitations", h.invite)
	owner.DELETE("/invitations/:id", h.deleteInvitation)

	owner.GET("/audit", h.auditLog)
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
	keys         KeyLookup
	sessions     Sessions
	accounts     Accounts
	members      MemberStore
	sites        Sites
	keyAdmin     KeyAdmin
	auditor      Auditor
	privacy      Privacy
	auth         AuthConfig
	limit        *limiter // per principal
	authLimit    *limiter // per client address, on sign-up, log-in and reset
	log          *slog.Logger
	now          func() time.Time
	queryTimeout time.Duration
}

func newHandlers(d Deps) *handlers {
	h := &handlers{
		stats: d.Stats, segments: d.Segments, data: d.SegmentData,
		automations: d.Automations, campaigns: d.Campaigns, settings: d.Settings, reports: d.Reports, backtests: d.Backtests,
		log: d.Log, now: d.Now, queryTimeout: d.QueryTimeout,
		keys: d.Keys, sessions: d.Sessions, accounts: d.Accounts, members: d.Members, sites: d.Sites,
		keyAdmin: d.KeyAdmin, auditor: d.Audit, privacy: d.Privacy, auth: d.Auth.withDefaults(),
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
	h.limit = newLimiter(h.auth.RatePerMinute, h.auth.RateBurst, h.now)
	h.authLimit = newLimiter(h.auth.AuthRatePerMinute, h.auth.AuthRateBurst, h.now)
	return h
}
