package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Gin context keys set by the middleware, for handlers and logs.
const (
	ctxAuthSite = "auth_site_id" // the site the API key belongs to
)

// maxKeyLen bounds a key worth looking up (real ones are 47 characters).
const maxKeyLen = 256

// lookupTimeout bounds the API-key lookup.
const lookupTimeout = 5 * time.Second

// requireAPIKey authenticates the bearer API key: 401 when it is missing or
// unknown, 503 when the control plane cannot be asked.
func requireAPIKey(keys KeyLookup) gin.HandlerFunc {
	return func(c *gin.Context) {
		key, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="pushpipe"`)
			refuse(c, http.StatusUnauthorized, Problem{"Authorization", "missing API key: send the header Authorization: Bearer <API key>"})
			return
		}
		siteID, err := lookupKey(c.Request.Context(), keys, key)
		switch {
		case errors.Is(err, controlplane.ErrNotFound):
			c.Header("WWW-Authenticate", `Bearer realm="pushpipe", error="invalid_token"`)
			refuse(c, http.StatusUnauthorized, Problem{"Authorization", "unknown or revoked API key"})
			return
		case err != nil:
			_ = c.Error(err)
			c.Header("Retry-After", "2")
			refuse(c, http.StatusServiceUnavailable, Problem{"", "the API key could not be checked; retry later"})
			return
		}
		c.Set(ctxAuthSite, siteID)
		c.Next()
	}
}

func lookupKey(ctx context.Context, keys KeyLookup, key string) (string, error) {
	if len(key) > maxKeyLen {
		return "", controlplane.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	return keys.SiteIDByAPIKey(ctx, key)
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireSite lets the request through only when the API key belongs to the
// site named in the path. Any other site, existing or not, is 403: the
// answer must not reveal whether another tenant's site exists.
func requireSite() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Param("site") != c.GetString(ctxAuthSite) {
			refuse(c, http.StatusForbidden, Problem{"site", "this API key does not give access to this site"})
			return
		}
		c.Next()
	}
}
