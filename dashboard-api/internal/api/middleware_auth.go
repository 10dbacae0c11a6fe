package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Gin context keys set by the middleware, for handlers and logs.
const (
	ctxAuthSite  = "auth_site_id"   // the site the request was authorised for
	ctxPrincipal = "auth_principal" // *principal
)

// Cookies and headers of web sessions.
const (
	CookieSession = "pushpipe_session" // HttpOnly: the session token
	CookieCSRF    = "pushpipe_csrf"    // readable by the page: the CSRF token to send back
	HeaderCSRF    = "X-CSRF-Token"     // required on unsafe methods of cookie sessions
)

// maxKeyLen bounds a key or session token worth looking up (real ones are
// under 60 characters).
const maxKeyLen = 256

// lookupTimeout bounds the key, session and role lookups.
const lookupTimeout = 5 * time.Second

// access is what a route needs of the principal on the path's site.
type access int

const (
	accessRead  access = iota + 1 // viewer or above, or a key of any scope
	accessWrite                   // editor or above, or a write key
	accessOwner                   // owner; never an API key
)

// principal is who makes the request: an account with a web session, or an
// API key.
type principal struct {
	AccountID string // set for a session
	Email     string
	CSRF      string
	Expires   time.Time           // end of the session
	Key       controlplane.APIKey // ID set for an API key
	Role      string              // the account's role on the path's site, set by requireSite
}

func (p *principal) isKey() bool { return p.Key.ID != "" }

// actor names the principal in the audit log.
func (p *principal) actor() string {
	if p.isKey() {
		return "key:" + p.Key.ID
	}
	return "account:" + p.AccountID
}

// can reports whether the principal has the access level on the path's site.
func (p *principal) can(a access) bool {
	if p.isKey() {
		return a == accessRead || (a == accessWrite && p.Key.Scope == controlplane.ScopeWrite)
	}
	switch p.Role {
	case controlplane.RoleOwner:
		return true
	case controlplane.RoleEditor:
		return a <= accessWrite
	case controlplane.RoleViewer:
		return a == accessRead
	}
	return false
}

// who returns the authenticated principal of the request (nil before authenticate).
func who(c *gin.Context) *principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(*principal)
	return pr
}

// actor names who makes the request in the audit log: "account:<id>" or
// "key:<id>" ("" when unauthenticated).
func actor(c *gin.Context) string {
	if p := who(c); p != nil {
		return p.actor()
	}
	return ""
}

// authenticate finds the principal: a bearer API key first, else the
// session cookie. None is 401; a control plane that cannot answer is 503.
// A cookie session must send its CSRF token on every unsafe method (403).
func (h *handlers) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		if hdr := c.GetHeader("Authorization"); hdr != "" {
			h.authenticateKey(c, hdr)
			return
		}
		token, err := c.Cookie(CookieSession)
		if err != nil || token == "" || h.sessions == nil {
			c.Header("WWW-Authenticate", `Bearer realm="pushpipe"`)
			refuse(c, http.StatusUnauthorized, Problem{"Authorization", "not logged in: log in, or send the header Authorization: Bearer <API key>"})
			return
		}
		h.authenticateSession(c, token)
	}
}

func (h *handlers) authenticateKey(c *gin.Context, hdr string) {
	token, ok := bearerToken(hdr)
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="pushpipe"`)
		refuse(c, http.StatusUnauthorized, Problem{"Authorization", "missing API key: send the header Authorization: Bearer <API key>"})
		return
	}
	key, err := lookup(c.Request.Context(), token, h.keys.APIKeyByToken)
	switch {
	case errors.Is(err, controlplane.ErrNotFound):
		c.Header("WWW-Authenticate", `Bearer realm="pushpipe", error="invalid_token"`)
		refuse(c, http.StatusUnauthorized, Problem{"Authorization", "unknown or revoked API key"})
		return
	case err != nil:
		unavailable(c, err, "the API key could not be checked; retry later")
		return
	}
	c.Set(ctxPrincipal, &principal{Key: key})
	c.Next()
}

func (h *handlers) authenticateSession(c *gin.Context, token string) {
	s, err := lookup(c.Request.Context(), token, h.sessions.SessionByToken)
	switch {
	case errors.Is(err, controlplane.ErrNotFound):
		h.clearCookies(c)
		refuse(c, http.StatusUnauthorized, Problem{"Cookie", "the session has expired or ended: log in again"})
		return
	case err != nil:
		unavailable(c, err, "the session could not be checked; retry later")
		return
	}
	if !safeMethod(c.Request.Method) {
		sent := c.GetHeader(HeaderCSRF)
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(s.CSRFToken)) != 1 {
			refuse(c, http.StatusForbidden, Problem{HeaderCSRF, "missing or wrong CSRF token: send the csrf_token of GET /v1/me in the header " + HeaderCSRF})
			return
		}
	}
	c.Set(ctxPrincipal, &principal{AccountID: s.AccountID, Email: s.Email, CSRF: s.CSRFToken, Expires: s.ExpiresAt})
	c.Next()
}

// lookup bounds a key or session lookup in time and refuses oversized tokens.
func lookup[T any](ctx context.Context, token string, find func(context.Context, string) (T, error)) (T, error) {
	if len(token) > maxKeyLen {
		var zero T
		return zero, controlplane.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	return find(ctx, token)
}

func unavailable(c *gin.Context, err error, msg string) {
	_ = c.Error(err)
	c.Header("Retry-After", "2")
	refuse(c, http.StatusServiceUnavailable, Problem{"", msg})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
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

// requireSite lets the request through only when the principal may see the
// site named in the path: a key of that site, or an account with a role on
// it. Any other site, existing or not, is 403: the answer must not reveal
// whether another tenant's site exists.
func (h *handlers) requireSite() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, site := who(c), c.Param("site")
		if p.isKey() {
			if site != p.Key.SiteID {
				refuse(c, http.StatusForbidden, Problem{"site", "this API key does not give access to this site"})
				return
			}
			c.Set(ctxAuthSite, site)
			c.Next()
			return
		}
		role, err := lookup(c.Request.Context(), site, func(ctx context.Context, site string) (string, error) {
			return h.members.Role(ctx, site, p.AccountID)
		})
		switch {
		case errors.Is(err, controlplane.ErrNotFound):
			refuse(c, http.StatusForbidden, Problem{"site", "this account has no role on this site"})
			return
		case err != nil:
			unavailable(c, err, "the role could not be checked; retry later")
			return
		}
		p.Role = role
		c.Set(ctxAuthSite, site)
		c.Next()
	}
}

// requireAccess refuses (403) a principal without the access level on the
// path's site. It runs after requireSite.
func requireAccess(a access) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := who(c)
		if p.can(a) {
			c.Next()
			return
		}
		switch {
		case a == accessOwner && p.isKey():
			refuse(c, http.StatusForbidden, Problem{"Authorization", "API keys cannot do this: log in as an owner of the site"})
		case p.isKey():
			refuse(c, http.StatusForbidden, Problem{"Authorization", "this API key has the read scope: use a key with the write scope"})
		default:
			refuse(c, http.StatusForbidden, Problem{"role", "the role " + p.Role + " on this site does not allow this"})
		}
	}
}

// requireAccount refuses (403) API keys on routes only a person may use.
func requireAccount() gin.HandlerFunc {
	return func(c *gin.Context) {
		if who(c).isKey() {
			refuse(c, http.StatusForbidden, Problem{"Authorization", "API keys cannot do this: log in"})
			return
		}
		c.Next()
	}
}

// roleOrScope is the account's role on the path's site, or the key's scope.
func (p *principal) roleOrScope() string {
	if p.isKey() {
		return p.Key.Scope
	}
	return p.Role
}
