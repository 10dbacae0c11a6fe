package ingest

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// ctxSiteID is the gin context key under which handlers note the site, for logs.
const ctxSiteID = "site_id"

// logFailures logs requests that failed on our side (5xx) or recorded an
// error with c.Error; successful and client-error requests are not logged.
func (s *Service) logFailures() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		if status < http.StatusInternalServerError && len(c.Errors) == 0 {
			return
		}
		level := slog.LevelWarn
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		s.log.Log(c.Request.Context(), level, "request failed",
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", status,
			"duration", time.Since(start), "site", c.GetString(ctxSiteID), "err", c.Errors.String())
	}
}

// recoverPanics turns a panic in a handler into a logged error and a 500 JSON answer.
func (s *Service) recoverPanics() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			s.log.Error("panic serving request", "path", c.Request.URL.Path, "site", c.GetString(ctxSiteID),
				"err", fmt.Sprint(r), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			refuse(c, http.StatusInternalServerError, "", "internal error; nothing of this request was accepted")
		}()
		c.Next()
	}
}
