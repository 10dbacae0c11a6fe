package ingest

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// CORS answer headers of a preflight.
const (
	corsAllowMethods = "POST, OPTIONS"
	corsAllowHeaders = "Content-Type, " + HeaderSiteKey
	corsMaxAge       = "600"
)

// originAllowed reports whether a page at origin may send beacons for a site
// with these allowed origins. "*" allows any; entries match scheme, host and
// port without regard to case or a trailing slash.
func originAllowed(allowed []string, origin string) bool {
	want := normalizeOrigin(origin)
	for _, a := range allowed {
		if a == "*" || normalizeOrigin(a) == want {
			return true
		}
	}
	return false
}

func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
}

// allowOrigin sets the headers that let the page at origin read the answer.
func allowOrigin(c *gin.Context, origin string) {
	c.Header("Access-Control-Allow-Origin", origin)
	c.Writer.Header().Add("Vary", "Origin")
}

// handlePreflight answers a CORS preflight for POST /v1/events. When the
// site key is in the query string, the origin is checked against the site's
// allowed origins now; otherwise (the key is in a header, whose value a
// preflight does not carry) the preflight is granted and the POST is checked.
func (s *Service) handlePreflight(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" {
		c.Header("Allow", corsAllowMethods)
		c.Status(http.StatusNoContent)
		return
	}
	if c.Query(QuerySiteKey) != "" {
		if _, ok := s.authorize(c); !ok {
			return
		}
	}
	allowOrigin(c, origin)
	c.Header("Access-Control-Allow-Methods", corsAllowMethods)
	c.Header("Access-Control-Allow-Headers", corsAllowHeaders)
	c.Header("Access-Control-Max-Age", corsMaxAge)
	c.Status(http.StatusNoContent)
}
