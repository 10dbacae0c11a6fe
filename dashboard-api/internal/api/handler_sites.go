package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Limits of a site's settings.
const (
	MaxOrigins       = 50
	MaxRetentionDays = 3650
)

// SiteRequest creates a site (name and contact required) or changes one
// (fields left out keep their value).
type SiteRequest struct {
	Name           *string   `json:"name,omitempty"`
	AllowedOrigins *[]string `json:"allowed_origins,omitempty"`
	AnonymizeIP    *bool     `json:"anonymize_ip,omitempty"`
	RetentionDays  *int      `json:"retention_days,omitempty"`
	Contact        *string   `json:"contact,omitempty"` // VAPID subject: mailto: or https:
}

// SiteResponse is a site; the VAPID private key never leaves the control plane.
type SiteResponse struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	SiteKey        string   `json:"site_key"`
	AllowedOrigins []string `json:"allowed_origins"`
	AnonymizeIP    bool     `json:"anonymize_ip"`
	RetentionDays  int      `json:"retention_days"`
	VAPIDPublicKey string   `json:"vapid_public_key"`
	Contact        string   `json:"contact"`
	CreatedAt      string   `json:"created_at"`
	Role           string   `json:"role,omitempty"` // the caller's role (or a key's scope)
}

// CreatedSiteResponse is a new site with its first API key (write scope,
// shown once) and the SDK snippet.
type CreatedSiteResponse struct {
	Site    SiteResponse    `json:"site"`
	APIKey  string          `json:"api_key"`
	Snippet SnippetResponse `json:"snippet"`
}

// SiteListResponse lists the caller's sites.
type SiteListResponse struct {
	Sites []SiteResponse `json:"sites"`
}

// SnippetResponse is what a site's pages embed to load the SDK.
type SnippetResponse struct {
	HTML           string `json:"html"`
	SiteKey        string `json:"site_key"`
	VAPIDPublicKey string `json:"vapid_public_key"`
	IngestURL      string `json:"ingest_url"`
}

func siteResponse(s controlplane.Site, role string) SiteResponse {
	origins := s.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	return SiteResponse{
		ID: s.ID, Name: s.Name, SiteKey: s.SiteKey, AllowedOrigins: origins, AnonymizeIP: s.AnonymizeIP,
		RetentionDays: s.RetentionDays, VAPIDPublicKey: s.VAPIDPublicKey, Contact: s.VAPIDContact,
		CreatedAt: utcTime(s.CreatedAt), Role: role,
	}
}

// snippet is the HTML that loads and starts the SDK on a site's pages.
func (h *handlers) snippet(s controlplane.Site) SnippetResponse {
	js := func(v string) string { b, _ := json.Marshal(v); return string(b) } // HTML-escaped JSON strings
	ingest := h.auth.IngestURL
	html := fmt.Sprintf("<script src=%q></script>\n<script>pushpipe.init({ siteKey: %s, endpoint: %s, vapidPublicKey: %s, serviceWorker: \"/pushpipe-sw.js\" });</script>\n",
		ingest+"/sdk/v1/pushpipe.js", js(s.SiteKey), js(ingest), js(s.VAPIDPublicKey))
	return SnippetResponse{HTML: html, SiteKey: s.SiteKey, VAPIDPublicKey: s.VAPIDPublicKey, IngestURL: ingest}
}

// listSites is GET /v1/sites: an account's sites with its roles, or the
// site of an API key.
func (h *handlers) listSites(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	p := who(c)
	out := []SiteResponse{}
	if p.isKey() {
		s, err := h.sites.SiteByID(ctx, p.Key.SiteID)
		if err != nil {
			h.failure(c, err, "site")
			return
		}
		out = append(out, siteResponse(s, p.Key.Scope))
	} else {
		sites, err := h.members.SitesOf(ctx, p.AccountID)
		if err != nil {
			h.failure(c, err, "site")
			return
		}
		for _, s := range sites {
			out = append(out, siteResponse(s.Site, s.Role))
		}
	}
	c.PureJSON(http.StatusOK, SiteListResponse{Sites: out})
}

// createSite is POST /v1/sites: the caller becomes its owner.
func (h *handlers) createSite(c *gin.Context) {
	var req SiteRequest
	if !decodeBody(c, &req) {
		return
	}
	in, probs := newSite(req)
	if len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	p := who(c)
	created, err := h.sites.CreateOwnedSite(ctx, p.AccountID, in)
	if errors.Is(err, controlplane.ErrMasterKey) {
		_ = c.Error(err)
		refuse(c, http.StatusServiceUnavailable, Problem{"", "the API has no master key (PUSHPIPE_MASTER_KEY) to seal the site's VAPID key"})
		return
	}
	if err == nil && req.RetentionDays != nil {
		created.Site, err = h.sites.UpdateSite(ctx, created.ID, controlplane.SiteUpdate{RetentionDays: req.RetentionDays})
	}
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	h.auditAs(c, created.ID, "site.create", created.ID, req)
	c.PureJSON(http.StatusCreated, CreatedSiteResponse{
		Site: siteResponse(created.Site, controlplane.RoleOwner), APIKey: created.APIKey, Snippet: h.snippet(created.Site),
	})
}

func newSite(req SiteRequest) (controlplane.NewSite, []Problem) {
	var probs []Problem
	in := controlplane.NewSite{AnonymizeIP: true}
	if req.Name == nil {
		probs = append(probs, Problem{"name", "missing: give the site a name"})
	} else {
		probs = append(probs, checkName(*req.Name, "site")...)
		in.Name = *req.Name
	}
	if req.Contact == nil {
		probs = append(probs, Problem{"contact", "missing: a mailto: or https: address push services may contact"})
	} else {
		probs = append(probs, checkContact(*req.Contact)...)
		in.Contact = *req.Contact
	}
	if req.AllowedOrigins != nil {
		probs = append(probs, checkOrigins(*req.AllowedOrigins)...)
		in.AllowedOrigins = *req.AllowedOrigins
	}
	if req.AnonymizeIP != nil {
		in.AnonymizeIP = *req.AnonymizeIP
	}
	if req.RetentionDays != nil {
		probs = append(probs, checkRetention(*req.RetentionDays)...)
	}
	return in, probs
}

func checkRetention(days int) []Problem {
	if days < 1 || days > MaxRetentionDays {
		return []Problem{{"retention_days", fmt.Sprintf("must be 1 to %d", MaxRetentionDays)}}
	}
	return nil
}

func checkContact(s string) []Problem {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "mailto" && u.Scheme != "https") || len(s) > 500 || (u.Opaque == "" && u.Host == "") {
		return []Problem{{"contact", "must be a mailto: or https: URL, such as mailto:ops@example.com"}}
	}
	return nil
}

func checkOrigins(origins []string) []Problem {
	if len(origins) > MaxOrigins {
		return []Problem{{"allowed_origins", fmt.Sprintf("has %d origins, more than the limit of %d", len(origins), MaxOrigins)}}
	}
	var probs []Problem
	for i, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
			u.Fragment != "" || u.User != nil || strings.ToLower(o) != o {
			probs = append(probs, Problem{fmt.Sprintf("allowed_origins[%d]", i), "must be an origin such as https://shop.example (lower case, no path)"})
		}
	}
	return probs
}

// getSite is GET /v1/sites/{site}.
func (h *handlers) getSite(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	s, err := h.sites.SiteByID(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	c.PureJSON(http.StatusOK, siteResponse(s, who(c).roleOrScope()))
}

// updateSite is PUT /v1/sites/{site}: name, origins, IP anonymisation,
// retention and contact; fields left out keep their value.
func (h *handlers) updateSite(c *gin.Context) {
	var req SiteRequest
	if !decodeBody(c, &req) {
		return
	}
	var probs []Problem
	if req.Name != nil {
		probs = append(probs, checkName(*req.Name, "site")...)
	}
	if req.Contact != nil {
		probs = append(probs, checkContact(*req.Contact)...)
	}
	if req.AllowedOrigins != nil {
		probs = append(probs, checkOrigins(*req.AllowedOrigins)...)
	}
	if req.RetentionDays != nil {
		probs = append(probs, checkRetention(*req.RetentionDays)...)
	}
	if len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	s, err := h.sites.UpdateSite(ctx, c.Param("site"), controlplane.SiteUpdate{
		Name: req.Name, AllowedOrigins: req.AllowedOrigins, AnonymizeIP: req.AnonymizeIP,
		RetentionDays: req.RetentionDays, VAPIDContact: req.Contact,
	})
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	h.audit(c, "site.update", s.ID, req)
	c.PureJSON(http.StatusOK, siteResponse(s, who(c).roleOrScope()))
}

// getSnippet is GET /v1/sites/{site}/snippet.
func (h *handlers) getSnippet(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	s, err := h.sites.SiteByID(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "site")
		return
	}
	c.PureJSON(http.StatusOK, h.snippet(s))
}
