package dashboardapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
)

// browser is a cookie jar of one person against the API handler.
type browser struct {
	t       *testing.T
	api     http.Handler
	cookies map[string]string
	csrf    string
}

func newBrowser(t *testing.T, api http.Handler) *browser {
	return &browser{t: t, api: api, cookies: map[string]string{}}
}

// do sends a request with the browser's cookies and CSRF token, keeps the
// cookies the answer sets, and decodes a 2xx answer into out.
func (b *browser) do(method, path, body string, out any) int {
	b.t.Helper()
	req := httptest.NewRequestWithContext(b.t.Context(), method, path, bytes.NewBufferString(body))
	for name, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	if b.csrf != "" {
		req.Header.Set(dashboardapi.HeaderCSRF, b.csrf)
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.api.ServeHTTP(rec, req)
	res := rec.Result()
	defer func() { _ = res.Body.Close() }()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	if out != nil && rec.Code < 300 {
		require.NoError(b.t, json.Unmarshal(rec.Body.Bytes(), out), rec.Body.String())
	}
	return rec.Code
}

// signup makes an account and keeps its session.
func (b *browser) signup(email string) dashboardapi.MeResponse {
	b.t.Helper()
	var me dashboardapi.MeResponse
	code := b.do("POST", "/v1/auth/signup", `{"email":"`+email+`","password":"a long password"}`, &me)
	require.Equal(b.t, http.StatusCreated, code)
	b.csrf = me.CSRFToken
	return me
}

// TestAccountsFlowAgainstPostgres: sign-up, log-in by cookie, a new site,
// an invitation accepted, a role changed, a key made and revoked, and the
// audit log that recorded all of it.
func TestAccountsFlowAgainstPostgres(t *testing.T) {
	s := openStack(t)
	ownerEmail, guestEmail := "owner-"+uuid.NewString()+"@test.example", "guest-"+uuid.NewString()+"@test.example"

	owner := newBrowser(t, s.api)
	me := owner.signup(ownerEmail)
	require.Equal(t, http.StatusNoContent, owner.do("POST", "/v1/auth/logout", "", nil))
	require.Equal(t, http.StatusUnauthorized, owner.do("GET", "/v1/me", "", nil), "logged out")
	require.Equal(t, http.StatusOK, owner.do("POST", "/v1/auth/login", `{"email":"`+ownerEmail+`","password":"a long password"}`, &me))
	owner.csrf = me.CSRFToken
	require.NotEmpty(t, owner.cookies[dashboardapi.CookieSession])

	var created dashboardapi.CreatedSiteResponse
	require.Equal(t, http.StatusCreated, owner.do("POST", "/v1/sites",
		`{"name":"flow shop","contact":"mailto:ops@shop.example","allowed_origins":["https://shop.example"]}`, &created))
	site := "/v1/sites/" + created.Site.ID
	var stored []byte
	require.NoError(t, s.db.QueryRow(t.Context(), `SELECT vapid_private_key_enc FROM sites WHERE id = $1`, created.Site.ID).Scan(&stored))
	require.NotEmpty(t, stored, "the VAPID private key is sealed at rest")
	priv, err := s.store.VAPIDPrivateKey(t.Context(), created.Site.ID)
	require.NoError(t, err)
	require.NotContains(t, string(stored), priv)

	var inv dashboardapi.CreatedInvitationResponse
	require.Equal(t, http.StatusCreated, owner.do("POST", site+"/invitations", `{"email":"`+guestEmail+`","role":"editor"}`, &inv))
	guest := newBrowser(t, s.api)
	guestMe := guest.signup(guestEmail)
	require.Equal(t, http.StatusForbidden, guest.do("GET", site+"/segments", "", nil), "not a member yet")
	var accepted dashboardapi.AcceptResponse
	require.Equal(t, http.StatusOK, guest.do("POST", "/v1/invitations/accept", `{"token":"`+inv.Token+`"}`, &accepted))
	require.Equal(t, "editor", accepted.Role)
	require.Equal(t, http.StatusCreated, guest.do("POST", site+"/segments", `{"name":"idle","text":"inactive within 30d"}`, nil), "an editor writes")

	require.Equal(t, http.StatusNoContent, owner.do("PUT", site+"/members/"+guestMe.Account.ID, `{"role":"viewer"}`, nil))
	require.Equal(t, http.StatusForbidden, guest.do("POST", site+"/segments", `{"name":"idle 2","text":"inactive within 30d"}`, nil), "a viewer does not")
	require.Equal(t, http.StatusOK, guest.do("GET", site+"/segments", "", nil), "but reads")
	require.Equal(t, http.StatusConflict, owner.do("DELETE", site+"/members/"+me.Account.ID, "", nil), "the last owner stays")

	var key dashboardapi.CreatedKeyResponse
	require.Equal(t, http.StatusCreated, owner.do("POST", site+"/keys", `{"name":"ci","scope":"read"}`, &key))
	api := newBrowser(t, s.api)
	require.Equal(t, http.StatusOK, s.callKey(t, "GET", site+"/segments", key.Secret))
	require.Equal(t, http.StatusForbidden, s.callKey(t, "POST", site+"/segments", key.Secret), "read scope")
	require.Equal(t, http.StatusForbidden, s.callKey(t, "GET", site+"/keys", created.APIKey), "a write key is no owner")
	require.Equal(t, http.StatusNoContent, owner.do("DELETE", site+"/keys/"+key.Key.ID, "", nil))
	require.Equal(t, http.StatusUnauthorized, s.callKey(t, "GET", site+"/segments", key.Secret), "revoked")
	require.Equal(t, http.StatusUnauthorized, api.do("GET", site+"/segments", "", nil))

	var log dashboardapi.AuditLogResponse
	require.Equal(t, http.StatusOK, owner.do("GET", site+"/audit?limit=100", "", &log))
	var got []string
	for i := len(log.Entries) - 1; i >= 0; i-- {
		e := log.Entries[i]
		got = append(got, e.Action+" "+e.Actor)
	}
	ownerActor, guestActor := "account:"+me.Account.ID, "account:"+guestMe.Account.ID
	require.Equal(t, []string{
		"site.create " + ownerActor, "invitation.create " + ownerActor, "member.join " + guestActor,
		"segment.create " + guestActor, "member.role " + ownerActor, "key.create " + ownerActor, "key.revoke " + ownerActor,
	}, got)
	require.Equal(t, http.StatusForbidden, guest.do("GET", site+"/audit", "", nil), "the audit log is the owners'")
}

// callKey sends a request with an API key and returns the status.
func (s stack) callKey(t *testing.T, method, path, key string) int {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, bytes.NewBufferString(`{}`))
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	return rec.Code
}
