package ingest

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/httpx"
)

// Paths served.
const (
	PathEvents  = "/v1/events"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
	PathSDK     = "/sdk/v1" // the browser SDK: pushpipe.js, sw.js, demo.html
)

func (s *Service) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode) // no debug banner; the mode is process-wide and idempotent
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ForwardedByClientIP = false // the client IP is resolved by enrich.Proxies
	e.Use(httpx.Recover(s.log, ctxSiteID, func(c *gin.Context) {
		refuse(c, http.StatusInternalServerError, "", "internal error; nothing of this request was accepted")
	}), httpx.AccessLog(s.log, ctxSiteID, false))
	e.POST(PathEvents, s.handleEvents)
	e.OPTIONS(PathEvents, s.handlePreflight)
	e.GET(PathHealthz, s.handleHealthz)
	e.GET(PathReadyz, s.handleReadyz)
	s.routeSDK(e)
	e.NoRoute(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "not found: beacons go to POST " + PathEvents})
	})
	e.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})
	return e
}
