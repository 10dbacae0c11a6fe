package api

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// fakeAccounts is an in-memory AccountStore and KeyLookup with the control
// plane's rules (one-time tokens, expiry against now, the last owner, keys
// scoped by site); passwords are kept in the clear, it is a fake.
type fakeAccounts struct {
	mu        sync.Mutex
	now       func() time.Time
	n         int
	accounts  map[string]fakeAccount // by id
	sessions  map[string]controlplane.Session
	roles     map[[2]string]string  // {site, account} -> role
	invites   map[string]fakeInvite // by token
	resets    map[string]string     // token -> account id
	keys      map[string]controlplane.APIKey
	secrets   map[string]string // secret -> key id
	sites     map[string]controlplane.Site
	audit     []controlplane.AuditEntry
	failAudit bool
}

type fakeAccount struct {
	controlplane.Account
	password string
}

type fakeInvite struct {
	controlplane.Invitation
	accepted bool
}

func newFakeAccounts(now func() time.Time) *fakeAccounts {
	return &fakeAccounts{
		now: now, accounts: map[string]fakeAccount{}, sessions: map[string]controlplane.Session{},
		roles: map[[2]string]string{}, invites: map[string]fakeInvite{}, resets: map[string]string{},
		keys: map[string]controlplane.APIKey{}, secrets: map[string]string{}, sites: map[string]controlplane.Site{},
	}
}

func (f *fakeAccounts) id(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%012d", prefix, f.n)
}

// addAccount, addSite, addKey and addSession set up a test's world.
func (f *fakeAccounts) addAccount(email, password string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id("acc-")
	f.accounts[id] = fakeAccount{Account: controlplane.Account{ID: id, Email: email, CreatedAt: f.now()}, password: password}
	return id
}

func (f *fakeAccounts) addSite(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sites[id] = controlplane.Site{ID: id, Name: name, SiteKey: "pps_" + name, VAPIDPublicKey: "BPub" + name, VAPIDContact: "mailto:ops@example.com", RetentionDays: 395, CreatedAt: f.now()}
}

func (f *fakeAccounts) setRole(site, account, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[[2]string{site, account}] = role
}

func (f *fakeAccounts) addKey(site, secret, scope string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id("key-")
	f.keys[id] = controlplane.APIKey{ID: id, SiteID: site, Name: secret, Prefix: secret[:min(8, len(secret))], Scope: scope, CreatedAt: f.now()}
	f.secrets[secret] = id
	return id
}

// addSession logs an account in until expires; it returns the cookie token and the CSRF token.
func (f *fakeAccounts) addSession(account string, expires time.Time) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	token, csrf := f.id("sess-"), f.id("csrf-")
	a := f.accounts[account]
	f.sessions[token] = controlplane.Session{AccountID: account, Email: a.Email, CSRFToken: csrf, ExpiresAt: expires}
	return token, csrf
}

func (f *fakeAccounts) entries() []controlplane.AuditEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]controlplane.AuditEntry(nil), f.audit...)
}

func (f *fakeAccounts) APIKeyByToken(_ context.Context, secret string) (controlplane.APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[f.secrets[secret]]
	if !ok || !k.RevokedAt.IsZero() {
		return controlplane.APIKey{}, fmt.Errorf("api key: %w", controlplane.ErrNotFound)
	}
	return k, nil
}

func (f *fakeAccounts) CreateSession(_ context.Context, accountID string, ttl time.Duration) (controlplane.NewSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	token := f.id("sess-")
	s := controlplane.Session{AccountID: accountID, Email: f.accounts[accountID].Email, CSRFToken: f.id("csrf-"), ExpiresAt: f.now().Add(ttl)}
	f.sessions[token] = s
	return controlplane.NewSession{Session: s, Token: token}, nil
}

func (f *fakeAccounts) SessionByToken(_ context.Context, token string) (controlplane.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[token]
	if !ok || !s.ExpiresAt.After(f.now()) {
		return controlplane.Session{}, fmt.Errorf("session: %w", controlplane.ErrNotFound)
	}
	return s, nil
}

func (f *fakeAccounts) DeleteSession(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, token)
	return nil
}

func (f *fakeAccounts) byEmail(email string) (fakeAccount, bool) {
	for _, a := range f.accounts {
		if a.Email == controlplane.NormalizeEmail(email) {
			return a, true
		}
	}
	return fakeAccount{}, false
}

func (f *fakeAccounts) CreateAccount(_ context.Context, email, password string) (controlplane.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byEmail(email); ok {
		return controlplane.Account{}, fmt.Errorf("create account: %w", controlplane.ErrEmailTaken)
	}
	id := f.id("acc-")
	a := fakeAccount{Account: controlplane.Account{ID: id, Email: controlplane.NormalizeEmail(email), CreatedAt: f.now()}, password: password}
	f.accounts[id] = a
	return a.Account, nil
}

func (f *fakeAccounts) Authenticate(_ context.Context, email, password string) (controlplane.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.byEmail(email)
	if !ok || a.password != password {
		return controlplane.Account{}, fmt.Errorf("log in: %w", controlplane.ErrBadCredentials)
	}
	return a.Account, nil
}

func (f *fakeAccounts) RequestPasswordReset(_ context.Context, email string, _ time.Duration) (string, controlplane.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.byEmail(email)
	if !ok {
		return "", controlplane.Account{}, fmt.Errorf("password reset: %w", controlplane.ErrNotFound)
	}
	token := f.id("pprst_")
	f.resets[token] = a.ID
	return token, a.Account, nil
}

func (f *fakeAccounts) ResetPassword(_ context.Context, token, password string) (controlplane.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.resets[token]
	if !ok {
		return controlplane.Account{}, fmt.Errorf("reset password: %w", controlplane.ErrTokenInvalid)
	}
	delete(f.resets, token)
	a := f.accounts[id]
	a.password = password
	f.accounts[id] = a
	for t, s := range f.sessions {
		if s.AccountID == id {
			delete(f.sessions, t)
		}
	}
	return a.Account, nil
}

func (f *fakeAccounts) Role(_ context.Context, siteID, accountID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.roles[[2]string{siteID, accountID}]; ok {
		return r, nil
	}
	return "", fmt.Errorf("role: %w", controlplane.ErrNotFound)
}

func (f *fakeAccounts) SitesOf(_ context.Context, accountID string) ([]controlplane.SiteRole, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.SiteRole{}
	for k, r := range f.roles {
		if k[1] == accountID {
			out = append(out, controlplane.SiteRole{Site: f.sites[k[0]], Role: r})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeAccounts) Members(_ context.Context, siteID string) ([]controlplane.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.Member{}
	for k, r := range f.roles {
		if k[0] == siteID {
			out = append(out, controlplane.Member{AccountID: k[1], Email: f.accounts[k[1]].Email, Role: r})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, nil
}

func (f *fakeAccounts) SetRole(_ context.Context, siteID, accountID, role string) error {
	return f.change(siteID, accountID, role)
}

func (f *fakeAccounts) RemoveMember(_ context.Context, siteID, accountID string) error {
	return f.change(siteID, accountID, "")
}

func (f *fakeAccounts) change(siteID, accountID, role string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.roles[[2]string{siteID, accountID}]
	if !ok {
		return fmt.Errorf("change member: %w", controlplane.ErrNotFound)
	}
	owners := 0
	for k, r := range f.roles {
		if k[0] == siteID && r == controlplane.RoleOwner {
			owners++
		}
	}
	if cur == controlplane.RoleOwner && role != controlplane.RoleOwner && owners == 1 {
		return fmt.Errorf("change member: %w", controlplane.ErrLastOwner)
	}
	if role == "" {
		delete(f.roles, [2]string{siteID, accountID})
	} else {
		f.roles[[2]string{siteID, accountID}] = role
	}
	return nil
}

func (f *fakeAccounts) CreateInvitation(_ context.Context, siteID, email, role, _ string, ttl time.Duration) (controlplane.Invitation, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := controlplane.Invitation{ID: f.id("inv-"), SiteID: siteID, Email: controlplane.NormalizeEmail(email), Role: role, CreatedAt: f.now(), ExpiresAt: f.now().Add(ttl)}
	token := f.id("ppinv_")
	f.invites[token] = fakeInvite{Invitation: inv}
	return inv, token, nil
}

func (f *fakeAccounts) Invitations(_ context.Context, siteID string) ([]controlplane.Invitation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.Invitation{}
	for _, i := range f.invites {
		if i.SiteID == siteID && !i.accepted {
			out = append(out, i.Invitation)
		}
	}
	return out, nil
}

func (f *fakeAccounts) DeleteInvitation(_ context.Context, siteID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t, i := range f.invites {
		if i.SiteID == siteID && i.ID == id && !i.accepted {
			delete(f.invites, t)
			return nil
		}
	}
	return fmt.Errorf("delete invitation: %w", controlplane.ErrNotFound)
}

func (f *fakeAccounts) AcceptInvitation(_ context.Context, token, accountID string) (controlplane.Invitation, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv, ok := f.invites[token]
	switch {
	case !ok || inv.accepted || !inv.ExpiresAt.After(f.now()):
		return controlplane.Invitation{}, "", fmt.Errorf("accept: %w", controlplane.ErrTokenInvalid)
	case f.accounts[accountID].Email != inv.Email:
		return controlplane.Invitation{}, "", fmt.Errorf("accept: %w", controlplane.ErrInvitationEmail)
	}
	inv.accepted = true
	f.invites[token] = inv
	k := [2]string{inv.SiteID, accountID}
	if _, member := f.roles[k]; !member {
		f.roles[k] = inv.Role
	}
	return inv.Invitation, f.roles[k], nil
}

func (f *fakeAccounts) CreateOwnedSite(_ context.Context, accountID string, in controlplane.NewSite) (controlplane.CreatedSite, error) {
	f.mu.Lock()
	id := f.id("00000000-0000-4000-8000-")
	f.mu.Unlock()
	f.addSite(id, in.Name)
	f.mu.Lock()
	s := f.sites[id]
	s.AllowedOrigins, s.AnonymizeIP, s.VAPIDContact = in.AllowedOrigins, in.AnonymizeIP, in.Contact
	f.sites[id] = s
	f.roles[[2]string{id, accountID}] = controlplane.RoleOwner
	f.mu.Unlock()
	secret := "ppk_default_" + id
	f.addKey(id, secret, controlplane.ScopeWrite)
	return controlplane.CreatedSite{Site: s, APIKey: secret}, nil
}

func (f *fakeAccounts) SiteByID(_ context.Context, id string) (controlplane.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sites[id]; ok {
		return s, nil
	}
	return controlplane.Site{}, fmt.Errorf("site: %w", controlplane.ErrNotFound)
}

func (f *fakeAccounts) UpdateSite(_ context.Context, siteID string, u controlplane.SiteUpdate) (controlplane.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sites[siteID]
	if !ok {
		return controlplane.Site{}, fmt.Errorf("update site: %w", controlplane.ErrNotFound)
	}
	if u.Name != nil {
		s.Name = *u.Name
	}
	if u.AllowedOrigins != nil {
		s.AllowedOrigins = *u.AllowedOrigins
	}
	if u.AnonymizeIP != nil {
		s.AnonymizeIP = *u.AnonymizeIP
	}
	if u.RetentionDays != nil {
		s.RetentionDays = *u.RetentionDays
	}
	if u.VAPIDContact != nil {
		s.VAPIDContact = *u.VAPIDContact
	}
	f.sites[siteID] = s
	return s, nil
}

func (f *fakeAccounts) CreateAPIKey(_ context.Context, siteID, name, scope string) (controlplane.APIKey, string, error) {
	f.mu.Lock()
	secret := f.id("ppk_secret_")
	f.mu.Unlock()
	id := f.addKey(siteID, secret, scope)
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[id]
	k.Name = name
	f.keys[id] = k
	return k, secret, nil
}

func (f *fakeAccounts) APIKeys(_ context.Context, siteID string) ([]controlplane.APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.APIKey{}
	for _, k := range f.keys {
		if k.SiteID == siteID {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

func (f *fakeAccounts) RevokeAPIKey(_ context.Context, siteID, id string) (controlplane.APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok || k.SiteID != siteID {
		return controlplane.APIKey{}, fmt.Errorf("revoke: %w", controlplane.ErrNotFound)
	}
	if k.RevokedAt.IsZero() {
		k.RevokedAt = f.now()
	}
	f.keys[id] = k
	return k, nil
}

func (f *fakeAccounts) Audit(_ context.Context, e controlplane.AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAudit {
		return fmt.Errorf("audit: connection refused")
	}
	e.ID = int64(len(f.audit) + 1)
	e.CreatedAt = f.now()
	f.audit = append(f.audit, e)
	return nil
}

func (f *fakeAccounts) AuditLog(_ context.Context, siteID string, before int64, limit int) ([]controlplane.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []controlplane.AuditEntry{}
	for i := len(f.audit) - 1; i >= 0 && len(out) < limit; i-- {
		e := f.audit[i]
		if e.SiteID == siteID && (before == 0 || e.ID < before) {
			out = append(out, e)
		}
	}
	return out, nil
}
