package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// KeyRequest creates an API key.
type KeyRequest struct {
	Name  string `json:"name"`
	Scope string `json:"scope"` // read or write
}

// KeyResponse is an API key without its secret.
type KeyResponse struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Prefix    string  `json:"prefix"`
	Scope     string  `json:"scope"`
	CreatedAt string  `json:"created_at"`
	RevokedAt *string `json:"revoked_at"`
}

// CreatedKeyResponse is a new key with its secret, shown this once.
type CreatedKeyResponse struct {
	Key    KeyResponse `json:"key"`
	Secret string      `json:"secret"`
}

// KeyListResponse lists a site's keys, revoked ones too, newest first.
type KeyListResponse struct {
	Keys []KeyResponse `json:"keys"`
}

func keyResponse(k controlplane.APIKey) KeyResponse {
	return KeyResponse{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scope: k.Scope, CreatedAt: utcTime(k.CreatedAt), RevokedAt: optTime(k.RevokedAt)}
}

// listKeys is GET /v1/sites/{site}/keys.
func (h *handlers) listKeys(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	keys, err := h.keyAdmin.APIKeys(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "API key")
		return
	}
	out := KeyListResponse{Keys: make([]KeyResponse, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, keyResponse(k))
	}
	c.PureJSON(http.StatusOK, out)
}

// createKey is POST /v1/sites/{site}/keys.
func (h *handlers) createKey(c *gin.Context) {
	var req KeyRequest
	if !decodeBody(c, &req) {
		return
	}
	probs := checkName(req.Name, "key")
	if req.Scope != controlplane.ScopeRead && req.Scope != controlplane.ScopeWrite {
		probs = append(probs, Problem{"scope", "must be read or write"})
	}
	if len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	k, secret, err := h.keyAdmin.CreateAPIKey(ctx, c.Param("site"), req.Name, req.Scope)
	if err != nil {
		h.failure(c, err, "API key")
		return
	}
	h.audit(c, "key.create", k.ID, gin.H{"name": k.Name, "scope": k.Scope, "prefix": k.Prefix})
	c.PureJSON(http.StatusCreated, CreatedKeyResponse{Key: keyResponse(k), Secret: secret})
}

// revokeKey is DELETE /v1/sites/{site}/keys/{id}.
func (h *handlers) revokeKey(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	k, err := h.keyAdmin.RevokeAPIKey(ctx, c.Param("site"), c.Param("id"))
	if err != nil {
		h.failure(c, err, "API key")
		return
	}
	h.audit(c, "key.revoke", k.ID, gin.H{"name": k.Name, "scope": k.Scope, "prefix": k.Prefix})
	c.Status(http.StatusNoContent)
}
