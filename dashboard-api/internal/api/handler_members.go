package api

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// invitationTTL is how long an invitation link works.
const invitationTTL = 7 * 24 * time.Hour

// InvitationRequest invites an e-mail address with a role.
type InvitationRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// InvitationResponse is a pending invitation.
type InvitationResponse struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
}

// CreatedInvitationResponse is a new invitation with its link, shown this
// once to the owner who sends it (and logged as the e-mail).
type CreatedInvitationResponse struct {
	Invitation InvitationResponse `json:"invitation"`
	AcceptURL  string             `json:"accept_url"`
	Token      string             `json:"token"`
}

// AcceptRequest accepts an invitation.
type AcceptRequest struct {
	Token string `json:"token"`
}

// AcceptResponse is the site joined and the role on it.
type AcceptResponse struct {
	SiteID string `json:"site_id"`
	Role   string `json:"role"`
}

// RoleRequest changes a member's role.
type RoleRequest struct {
	Role string `json:"role"`
}

// MemberRoleResponse is an account with its role on the site.
type MemberRoleResponse struct {
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at"`
}

// MemberListResponse lists a site's members and pending invitations.
type MemberListResponse struct {
	Members     []MemberRoleResponse `json:"members"`
	Invitations []InvitationResponse `json:"invitations"`
}

func invitationResponse(i controlplane.Invitation) InvitationResponse {
	return InvitationResponse{ID: i.ID, Email: i.Email, Role: i.Role, CreatedAt: utcTime(i.CreatedAt), ExpiresAt: utcTime(i.ExpiresAt)}
}

// memberFailure answers for a failed membership change.
func (h *handlers) memberFailure(c *gin.Context, err error, noun string) {
	switch {
	case errors.Is(err, controlplane.ErrLastOwner):
		refuse(c, http.StatusConflict, Problem{"role", "a site keeps at least one owner: make another member owner first"})
	case errors.Is(err, controlplane.ErrTokenInvalid):
		refuse(c, http.StatusUnprocessableEntity, Problem{"token", "unknown, expired or used invitation: ask for a new one"})
	case errors.Is(err, controlplane.ErrInvitationEmail):
		refuse(c, http.StatusForbidden, Problem{"token", "the invitation was sent to another e-mail address: log in with that address"})
	default:
		h.failure(c, err, noun)
	}
}

// listMembers is GET /v1/sites/{site}/members.
func (h *handlers) listMembers(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	members, err := h.members.Members(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "member")
		return
	}
	invs, err := h.members.Invitations(ctx, c.Param("site"))
	if err != nil {
		h.failure(c, err, "invitation")
		return
	}
	out := MemberListResponse{Members: make([]MemberRoleResponse, 0, len(members)), Invitations: make([]InvitationResponse, 0, len(invs))}
	for _, m := range members {
		out.Members = append(out.Members, MemberRoleResponse{AccountID: m.AccountID, Email: m.Email, Role: m.Role, CreatedAt: utcTime(m.CreatedAt)})
	}
	for _, i := range invs {
		out.Invitations = append(out.Invitations, invitationResponse(i))
	}
	c.PureJSON(http.StatusOK, out)
}

// invite is POST /v1/sites/{site}/invitations.
func (h *handlers) invite(c *gin.Context) {
	var req InvitationRequest
	if !decodeBody(c, &req) {
		return
	}
	probs := checkEmail(req.Email)
	if !controlplane.ValidRole(req.Role) {
		probs = append(probs, Problem{"role", "must be owner, editor or viewer"})
	}
	if len(probs) > 0 {
		refuse(c, http.StatusUnprocessableEntity, probs...)
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	inv, token, err := h.members.CreateInvitation(ctx, c.Param("site"), req.Email, req.Role, who(c).AccountID, invitationTTL)
	if err != nil {
		h.failure(c, err, "invitation")
		return
	}
	link := h.auth.PublicURL + "/#/accept?token=" + url.QueryEscape(token)
	// The e-mail: a logged link until the API sends mail.
	h.log.Info("invitation link", "site", inv.SiteID, "email", inv.Email, "role", inv.Role, "link", link)
	h.audit(c, "invitation.create", inv.ID, gin.H{"email": inv.Email, "role": inv.Role})
	c.PureJSON(http.StatusCreated, CreatedInvitationResponse{Invitation: invitationResponse(inv), AcceptURL: link, Token: token})
}

// deleteInvitation is DELETE /v1/sites/{site}/invitations/{id}.
func (h *handlers) deleteInvitation(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	if err := h.members.DeleteInvitation(ctx, c.Param("site"), c.Param("id")); err != nil {
		h.failure(c, err, "invitation")
		return
	}
	h.audit(c, "invitation.delete", c.Param("id"), nil)
	c.Status(http.StatusNoContent)
}

// acceptInvitation is POST /v1/invitations/accept.
func (h *handlers) acceptInvitation(c *gin.Context) {
	var req AcceptRequest
	if !decodeBody(c, &req) {
		return
	}
	if req.Token == "" || len(req.Token) > maxKeyLen {
		refuse(c, http.StatusUnprocessableEntity, Problem{"token", "unknown, expired or used invitation: ask for a new one"})
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	p := who(c)
	inv, role, err := h.members.AcceptInvitation(ctx, req.Token, p.AccountID)
	if err != nil {
		h.memberFailure(c, err, "invitation")
		return
	}
	h.auditAs(c, inv.SiteID, "member.join", p.AccountID, gin.H{"email": p.Email, "role": role, "invitation": inv.ID})
	c.PureJSON(http.StatusOK, AcceptResponse{SiteID: inv.SiteID, Role: role})
}

// setRole is PUT /v1/sites/{site}/members/{account}.
func (h *handlers) setRole(c *gin.Context) {
	var req RoleRequest
	if !decodeBody(c, &req) {
		return
	}
	if !controlplane.ValidRole(req.Role) {
		refuse(c, http.StatusUnprocessableEntity, Problem{"role", "must be owner, editor or viewer"})
		return
	}
	ctx, cancel := h.requestContext(c)
	defer cancel()
	account := c.Param("account")
	if err := h.members.SetRole(ctx, c.Param("site"), account, req.Role); err != nil {
		h.memberFailure(c, err, "member")
		return
	}
	h.audit(c, "member.role", account, gin.H{"role": req.Role})
	c.Status(http.StatusNoContent)
}

// removeMember is DELETE /v1/sites/{site}/members/{account}.
func (h *handlers) removeMember(c *gin.Context) {
	ctx, cancel := h.requestContext(c)
	defer cancel()
	account := c.Param("account")
	if err := h.members.RemoveMember(ctx, c.Param("site"), account); err != nil {
		h.memberFailure(c, err, "member")
		return
	}
	h.audit(c, "member.remove", account, nil)
	c.Status(http.StatusNoContent)
}
