package ingest

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// handleHealthz answers 200 while the process serves: a liveness probe.
func (s *Service) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleReadyz answers 200 when the service should get traffic: not shutting
// down, and Deps.Ready (when set) passes. Every answer tells the spool's
// depth: events accepted while Kafka did not acknowledge, not yet replayed.
func (s *Service) handleReadyz(c *gin.Context) {
	if s.draining.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "shutting down", "spool": s.spoolStatus()})
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			_ = c.Error(err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "error": err.Error(), "spool": s.spoolStatus()})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "spool": s.spoolStatus()})
}
