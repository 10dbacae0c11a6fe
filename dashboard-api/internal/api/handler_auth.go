package api

import (
	"errors"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Limits of credentials.
const (
	MinPassword = 10   // characters
	MaxPassword = 1024 // characters
	MaxEmail    = 254  // characters (RFC 5321)
)

// resetTTL is how long a password reset link works.
const resetTTL = time.Hour

// CredentialsRequest signs up or logs in.
type CredentialsRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// PasswordResetRequest asks for a password reset link.
type PasswordResetRequest struct {
	Email string `json:"email"`
}

// PasswordResetConfirm sets a new password with the token of the link.
type PasswordResetConfirm struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// AccountResponse is an account.
type AccountResponse struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// SiteRoleResponse is a site and the caller's role on it.
type SiteRoleResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"` // owner, editor, viewer; for an API key: read or write (its scope)
}

// KeyPrincipalResponse describes the API key of the request.
type KeyPrincipalResponse struct {
	ID     string `json:"id"`
	SiteID string `json:"site_id"`
	Scope  string `json:"scope"`
}

// MeResponse is who the caller is: an account (with the CSRF token of its
// session) or an API key, and the sites it may open.
type MeResponse struct {
	Account   *AccountResponse      `json:"account,omitempty"`
	Key       *KeyPrincipalResponse `json:"key,omitempty"`
	CSRFToken string                `json:"csrf_token,omitempty"`
	ExpiresAt *string               `json:"expires_at,omitempty"`
	Sites     []SiteRoleResponse    `json:"sites"`
}

// registerAccountRoutes registers the routes outside one site: accounts,
// sessions, the caller's sites, and accepting invitations.
func (h *handlers) registerAccountRoutes(v1 *gin.RouterGroup) {
	open := v1.Group("/auth", rateLimit(h.authLimit, byClient), requireJSON())
	open.POST("/signup", h.signup)
	open.POST("/login", h.login)
	open.POST("/password-reset", h.requestPasswordReset)
	open.POST("/password-reset/confirm", h.confirmPasswordReset)

	authed := v1.Group("", h.authenticate(), rateLimit(h.limit, byPrincipal))
	authed.POST("/auth/logout", requireAccount(), h.logout)
	authed.GET("/me", h.me)
	authed.GET("/sites", h.listSites)
	authed.POST("/sites", requireAccount(), h.createSite)
	authed.POST("/invitations/accept", requireAccount(), h.acceptInvitation)
}

// requireJSON refuses (415) bodies that are not declared JSON: a page of
// another site can post a form or text/plain without asking, but not JSON,
// so nobody can be logged in to an attacker's account by a hidden form.
func requireJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
			refuse(c, http.StatusUnsupportedMediaType, Problem{"Content-Type", "send the body as application/json"})
			return
		}
		c.Next()
	}
}

func checkEmail(email string) []Problem {
	a, err := mail.ParseAddress(email)
	switch {
	case len(email) > MaxEmail:
		return []Problem{{"email", "is longer than 254 characters"}}
	case err != nil || a.Address != email:
		return []Problem{{"email", "is not an e-mail address such as ana@example.com"}}
	}
	return nil
}

func checkPassword(password string) []Problem {
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		return []Problem{{"password", "must be valid UTF-8"}}
	case n < MinPassword:
		return []Problem{{"password", "is too short: at least 10 characters"}}
	case n > MaxPassword:
		return []Problem{{"password", "is too long: at most 1024 characters"}}
	}
	return nil
}

func (h *handlers) signup(c *gin.Context) {
	var req CredentialsRequest
	if !decodeBody(c, &req) {
		return
	}
	if probs := append(checkEmail(req.Email), checkPassword(req.Password)...); len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	acc, err := h.accounts.CreateAccount(c.Request.Context(), req.Email, req.Password)
	if errors.Is(err, controlplane.ErrEmailTaken) {
		refuse(c, http.StatusConflict, Problem{"email", "an account with this e-mail address exists: log in"})
		return
	}
	if err != nil {
		h.failure(c, err, "account")
		return
	}
	h.startSession(c, acc, http.StatusCreated)
}

func (h *handlers) login(c *gin.Context) {
	var req CredentialsRequest
	if !decodeBody(c, &req) {
		return
	}
	if len(req.Password) > MaxPassword*4 {
		refuse(c, http.StatusUnauthorized, Problem{"", "wrong e-mail address or password"})
		return
	}
	acc, err := h.accounts.Authenticate(c.Request.Context(), req.Email, req.Password)
	if errors.Is(err, controlplane.ErrBadCredentials) {
		refuse(c, http.StatusUnauthorized, Problem{"", "wrong e-mail address or password"})
		return
	}
	if err != nil {
		h.failure(c, err, "account")
		return
	}
	h.startSession(c, acc, http.StatusOK)
}

// startSession creates a session, sets its cookies and answers like GET /v1/me.
func (h *handlers) startSession(c *gin.Context, acc controlplane.Account, status int) {
	s, err := h.sessions.CreateSession(c.Request.Context(), acc.ID, h.auth.SessionTTL)
	if err != nil {
		h.failure(c, err, "session")
		return
	}
	h.setCookie(c, CookieSession, s.Token, true, s.ExpiresAt)
	h.setCookie(c, CookieCSRF, s.CSRFToken, false, s.ExpiresAt)
	sites := h.sitesOf(c, acc.ID)
	if c.IsAborted() {
		return
	}
	c.PureJSON(status, MeResponse{
		Account: &AccountResponse{ID: acc.ID, Email: acc.Email}, CSRFToken: s.CSRFToken,
		ExpiresAt: optTime(s.ExpiresAt), Sites: sites,
	})
}

// setCookie sets a Secure, SameSite=Lax cookie on the whole site, HttpOnly
// unless the page must read it; a zero expiry deletes it.
func (h *handlers) setCookie(c *gin.Context, name, value string, httpOnly bool, expires time.Time) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: httpOnly,
		Secure: !h.auth.InsecureCookies, SameSite: http.SameSiteLaxMode,
	}
	if expires.IsZero() {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires.UTC()
		ck.MaxAge = max(1, int(expires.Sub(h.now()).Seconds()))
	}
	http.SetCookie(c.Writer, ck)
}

func (h *handlers) clearCookies(c *gin.Context) {
	h.setCookie(c, CookieSession, "", true, time.Time{})
	h.setCookie(c, CookieCSRF, "", false, time.Time{})
}

func (h *handlers) logout(c *gin.Context) {
	token, _ := c.Cookie(CookieSession)
	if err := h.sessions.DeleteSession(c.Request.Context(), token); err != nil {
		h.failure(c, err, "session")
		return
	}
	h.clearCookies(c)
	c.Status(http.StatusNoContent)
}

func (h *handlers) me(c *gin.Context) {
	p := who(c)
	if p.isKey() {
		c.PureJSON(http.StatusOK, MeResponse{
			Key:   &KeyPrincipalResponse{ID: p.Key.ID, SiteID: p.Key.SiteID, Scope: p.Key.Scope},
			Sites: h.keySites(c, p),
		})
		return
	}
	sites := h.sitesOf(c, p.AccountID)
	if c.IsAborted() {
		return
	}
	c.PureJSON(http.StatusOK, MeResponse{
		Account: &AccountResponse{ID: p.AccountID, Email: p.Email}, CSRFToken: p.CSRF, ExpiresAt: optTime(p.Expires), Sites: sites,
	})
}

// sitesOf lists an account's sites with its roles; on failure it answers
// the request and returns nil.
func (h *handlers) sitesOf(c *gin.Context, accountID string) []SiteRoleResponse {
	sites, err := h.members.SitesOf(c.Request.Context(), accountID)
	if err != nil {
		h.failure(c, err, "site")
		return nil
	}
	out := make([]SiteRoleResponse, 0, len(sites))
	for _, s := range sites {
		out = append(out, SiteRoleResponse{ID: s.ID, Name: s.Name, Role: s.Role})
	}
	return out
}

// keySites is the one site of an API key.
func (h *handlers) keySites(c *gin.Context, p *principal) []SiteRoleResponse {
	out := []SiteRoleResponse{{ID: p.Key.SiteID, Role: p.Key.Scope}}
	if s, err := h.sites.SiteByID(c.Request.Context(), p.Key.SiteID); err == nil {
		out[0].Name = s.Name
	}
	return out
}

func (h *handlers) requestPasswordReset(c *gin.Context) {
	var req PasswordResetRequest
	if !decodeBody(c, &req) {
		return
	}
	if probs := checkEmail(req.Email); len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	token, acc, err := h.accounts.RequestPasswordReset(c.Request.Context(), req.Email, resetTTL)
	switch {
	case errors.Is(err, controlplane.ErrNotFound): // the answer does not tell whether the account exists
	case err != nil:
		h.failure(c, err, "account")
		return
	default:
		// The e-mail: a logged link until the API sends mail.
		h.log.Info("password reset link", "account", acc.ID, "email", acc.Email,
			"link", h.auth.PublicURL+"/#/reset?token="+url.QueryEscape(token))
	}
	c.PureJSON(http.StatusAccepted, gin.H{"status": "if an account has this address, a reset link was sent to it"})
}

func (h *handlers) confirmPasswordReset(c *gin.Context) {
	var req PasswordResetConfirm
	if !decodeBody(c, &req) {
		return
	}
	if probs := checkPassword(req.Password); len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	if req.Token == "" || len(req.Token) > maxKeyLen {
		refuse(c, http.StatusUnprocessableEntity, Problem{"token", "unknown, expired or used reset token: ask for a new link"})
		return
	}
	_, err := h.accounts.ResetPassword(c.Request.Context(), req.Token, req.Password)
	if errors.Is(err, controlplane.ErrTokenInvalid) {
		refuse(c, http.StatusUnprocessableEntity, Problem{"token", "unknown, expired or used reset token: ask for a new link"})
		return
	}
	if err != nil {
		h.failure(c, err, "account")
		return
	}
	c.Status(http.StatusNoContent)
}
