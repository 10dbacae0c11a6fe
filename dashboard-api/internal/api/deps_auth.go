package api

import (
	"context"
	"time"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// Sessions keeps the web sessions; an unknown or expired token is an error
// wrapping controlplane.ErrNotFound. *controlplane.Store is one.
type Sessions interface {
	CreateSession(ctx context.Context, accountID string, ttl time.Duration) (controlplane.NewSession, error)
	SessionByToken(ctx context.Context, token string) (controlplane.Session, error)
	DeleteSession(ctx context.Context, token string) error
}

// Accounts keeps the accounts and their passwords. *controlplane.Store is one.
type Accounts interface {
	CreateAccount(ctx context.Context, email, password string) (controlplane.Account, error)
	Authenticate(ctx context.Context, email, password string) (controlplane.Account, error)
	RequestPasswordReset(ctx context.Context, email string, ttl time.Duration) (string, controlplane.Account, error)
	ResetPassword(ctx context.Context, token, password string) (controlplane.Account, error)
}

// MemberStore keeps who has which role on which site, and the invitations.
// *controlplane.Store is one.
type MemberStore interface {
	Role(ctx context.Context, siteID, accountID string) (string, error)
	SitesOf(ctx context.Context, accountID string) ([]controlplane.SiteRole, error)
	Members(ctx context.Context, siteID string) ([]controlplane.Member, error)
	SetRole(ctx context.Context, siteID, accountID, role string) error
	RemoveMember(ctx context.Context, siteID, accountID string) error
	CreateInvitation(ctx context.Context, siteID, email, role, invitedBy string, ttl time.Duration) (controlplane.Invitation, string, error)
	Invitations(ctx context.Context, siteID string) ([]controlplane.Invitation, error)
	DeleteInvitation(ctx context.Context, siteID, id string) error
	AcceptInvitation(ctx context.Context, token, accountID string) (controlplane.Invitation, string, error)
}

// Sites creates sites and keeps their own settings. *controlplane.Store is one.
type Sites interface {
	CreateOwnedSite(ctx context.Context, accountID string, in controlplane.NewSite) (controlplane.CreatedSite, error)
	SiteByID(ctx context.Context, id string) (controlplane.Site, error)
	UpdateSite(ctx context.Context, siteID string, u controlplane.SiteUpdate) (controlplane.Site, error)
}

// KeyAdmin makes, lists and revokes a site's API keys. *controlplane.Store is one.
type KeyAdmin interface {
	CreateAPIKey(ctx context.Context, siteID, name, scope string) (controlplane.APIKey, string, error)
	APIKeys(ctx context.Context, siteID string) ([]controlplane.APIKey, error)
	RevokeAPIKey(ctx context.Context, siteID, id string) (controlplane.APIKey, error)
}

// Auditor records every change and reads a site's audit log back.
// *controlplane.Store is one.
type Auditor interface {
	Audit(ctx context.Context, e controlplane.AuditEntry) error
	AuditLog(ctx context.Context, siteID string, before int64, limit int) ([]controlplane.AuditEntry, error)
}

// AccountStore is everything accounts and tenancy need, in one;
// *controlplane.Store is one.
type AccountStore interface {
	Sessions
	Accounts
	MemberStore
	Sites
	KeyAdmin
	Auditor
}

// AuthConfig are the settings of accounts, sessions and rate limits.
type AuthConfig struct {
	SessionTTL        time.Duration // how long a log-in lasts; default 12 h
	InsecureCookies   bool          // drop the Secure flag of cookies (plain-HTTP development only)
	PublicURL         string        // base of the links in logged e-mails (password reset, invitation)
	IngestURL         string        // public address of ingest, for the SDK snippet
	RatePerMinute     int           // requests per minute per principal; 0: no limit
	RateBurst         int
	AuthRatePerMinute int // sign-up, log-in and reset attempts per minute per client address; 0: no limit
	AuthRateBurst     int
}

// withDefaults fills the settings left zero (rate limits stay off).
func (a AuthConfig) withDefaults() AuthConfig {
	if a.SessionTTL <= 0 {
		a.SessionTTL = 12 * time.Hour
	}
	if a.PublicURL == "" {
		a.PublicURL = "http://127.0.0.1:8081"
	}
	if a.IngestURL == "" {
		a.IngestURL = "http://127.0.0.1:8080"
	}
	return a
}
