// Package httpx holds the HTTP plumbing the Gin services share: panic
// recovery and access logging through slog. Each service keeps its own
// routes, error bodies and policies.
package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// Recover turns a panic in a handler into an error log (with the stack and
// the site the request was for, read from the gin context key siteKey) and
// the service's own 500 answer, unless the response had already started.
func Recover(log *slog.Logger, siteKey string, answer func(c *gin.Context)) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			log.Error("panic serving request", "route", route(c), "site", c.GetString(siteKey),
				"err", fmt.Sprint(r), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			answer(c)
		}()
		c.Next()
	}
}

// AccessLog writes one line per request: failures on our side (5xx) as
// errors, requests that recorded an error with c.Error as warnings, and, when
// all is true, every other request at info. It logs the route, never the
// query string (which may carry keys).
func AccessLog(log *slog.Logger, siteKey string, all bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= http.StatusInternalServerError:
			level = slog.LevelError
		case len(c.Errors) > 0:
			level = slog.LevelWarn
		case !all:
			return
		}
		attrs := []any{
			"method", c.Request.Method, "route", route(c), "status", status,
			"duration", time.Since(start), "site", c.GetString(siteKey),
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, "err", c.Errors.String())
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
	}
}

func route(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}
