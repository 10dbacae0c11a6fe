package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

func TestCreateSiteMakesTheCallerOwner(t *testing.T) {
	w := newWorld(t, AuthConfig{IngestURL: "https://in.example.com"})
	s := w.login(w.view)
	body := `{"name":"shop","contact":"mailto:ops@shop.example","allowed_origins":["https://shop.example"],"retention_days":30}`
	rec := call(t, w.h, "POST", "/v1/sites", body, withSession(s, false))
	require.Equal(t, http.StatusForbidden, rec.Code, "CSRF protects creating sites too")
	rec = call(t, w.h, "POST", "/v1/sites", body, withSession(s, true))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	created := decodeAs[CreatedSiteResponse](t, rec)
	require.Equal(t, "owner", created.Site.Role)
	require.Equal(t, 30, created.Site.RetentionDays)
	require.Equal(t, []string{"https://shop.example"}, created.Site.AllowedOrigins)
	require.True(t, strings.HasPrefix(created.APIKey, "ppk_"), "the first key is shown once")
	require.Contains(t, created.Snippet.HTML, `<script src="https://in.example.com/sdk/v1/pushpipe.js"></script>`)
	require.Contains(t, created.Snippet.HTML, `siteKey: "`+created.Site.SiteKey+`"`)
	require.Contains(t, created.Snippet.HTML, `vapidPublicKey: "`+created.Site.VAPIDPublicKey+`"`)
	require.NotContains(t, rec.Body.String(), "private")

	rec = call(t, w.h, "GET", "/v1/sites/"+created.Site.ID+"/keys", "", withSession(s, false))
	require.Equal(t, http.StatusOK, rec.Code, "the creator owns it")
	rec = call(t, w.h, "GET", "/v1/sites", "", withSession(s, false))
	require.Len(t, decodeAs[SiteListResponse](t, rec).Sites, 2, "site A as viewer and the new one")

	require.Equal(t, http.StatusForbidden, call(t, w.h, "POST", "/v1/sites", body, bearer(writeKeyA)).Code, "keys do not create sites")
	entries := w.f.entries()
	require.Equal(t, "site.create", entries[len(entries)-1].Action)
	require.Equal(t, created.Site.ID, entries[len(entries)-1].SiteID)
}

func TestSiteValidation(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	s := w.login(w.owner)
	rec := call(t, w.h, "POST", "/v1/sites", `{"name":" ","contact":"ops@x","allowed_origins":["https://x.example/path","HTTPS://Y.example"]}`, withSession(s, true))
	require.Equal(t, 422, rec.Code)
	var fields []string
	for _, p := range problems(t, rec) {
		fields = append(fields, p.Field)
	}
	require.Equal(t, []string{"name", "contact", "allowed_origins[0]", "allowed_origins[1]"}, fields)

	rec = call(t, w.h, "PUT", "/v1/sites/"+siteA, `{"retention_days":0}`, withSession(s, true))
	require.Equal(t, 422, rec.Code)
	rec = call(t, w.h, "PUT", "/v1/sites/"+siteA, `{"retention_days":90,"anonymize_ip":false}`, withSession(s, true))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := decodeAs[SiteResponse](t, rec)
	require.Equal(t, 90, got.RetentionDays)
	require.False(t, got.AnonymizeIP)
	require.Equal(t, "a", got.Name, "fields left out keep their value")

	rec = call(t, w.h, "GET", "/v1/sites/"+siteA+"/snippet", "", bearer(readKeyA))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "pps_a", decodeAs[SnippetResponse](t, rec).SiteKey)
}

func TestAPIKeysShownOnceAndRevocable(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	s := w.login(w.owner)
	keys := "/v1/sites/" + siteA + "/keys"
	rec := call(t, w.h, "POST", keys, `{"name":"reporting","scope":"admin"}`, withSession(s, true))
	require.Equal(t, 422, rec.Code)
	rec = call(t, w.h, "POST", keys, `{"name":"reporting","scope":"read"}`, withSession(s, true))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	created := decodeAs[CreatedKeyResponse](t, rec)
	require.Equal(t, "read", created.Key.Scope)

	rec = call(t, w.h, "GET", keys, "", withSession(s, false))
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotContains(t, rec.Body.String(), created.Secret, "the secret is never shown again")
	require.Len(t, decodeAs[KeyListResponse](t, rec).Keys, 3)

	segs := "/v1/sites/" + siteA + "/segments"
	require.Equal(t, http.StatusOK, call(t, w.h, "GET", segs, "", bearer(created.Secret)).Code)
	require.Equal(t, http.StatusForbidden, call(t, w.h, "POST", segs, `{}`, bearer(created.Secret)).Code, "read scope")

	rec = call(t, w.h, "DELETE", "/v1/sites/"+siteB+"/keys/"+created.Key.ID, "", withSession(w.login(w.other), true))
	require.Equal(t, http.StatusNotFound, rec.Code, "an owner of B cannot revoke A's key through B")
	rec = call(t, w.h, "DELETE", keys+"/"+created.Key.ID, "", withSession(s, true))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, http.StatusUnauthorized, call(t, w.h, "GET", segs, "", bearer(created.Secret)).Code, "revoked")

	var actions []string
	for _, e := range w.f.entries() {
		actions = append(actions, e.Action+" "+e.Actor)
	}
	require.Equal(t, []string{"key.create account:" + w.owner, "key.revoke account:" + w.owner}, actions)
}

func TestInvitationsAndRoles(t *testing.T) {
	w := newWorld(t, AuthConfig{PublicURL: "https://push.example.com"})
	owner := w.login(w.owner)
	site := "/v1/sites/" + siteA
	rec := call(t, w.h, "POST", site+"/invitations", `{"email":"new@a.example","role":"boss"}`, withSession(owner, true))
	require.Equal(t, 422, rec.Code)
	rec = call(t, w.h, "POST", site+"/invitations", `{"email":"new@a.example","role":"editor"}`, withSession(owner, true))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	inv := decodeAs[CreatedInvitationResponse](t, rec)
	require.True(t, strings.HasPrefix(inv.AcceptURL, "https://push.example.com/#/accept?token="))
	require.Contains(t, w.logs.String(), "invitation link", "the e-mail is a logged link")

	newcomer := w.f.addAccount("new@a.example", "newcomer password")
	stranger := w.login(w.other)
	rec = call(t, w.h, "POST", "/v1/invitations/accept", `{"token":"`+inv.Token+`"}`, withSession(stranger, true))
	require.Equal(t, http.StatusForbidden, rec.Code, "sent to another address")
	s := w.login(newcomer)
	rec = call(t, w.h, "POST", "/v1/invitations/accept", `{"token":"`+inv.Token+`"}`, withSession(s, true))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, AcceptResponse{SiteID: siteA, Role: "editor"}, decodeAs[AcceptResponse](t, rec))
	rec = call(t, w.h, "POST", "/v1/invitations/accept", `{"token":"`+inv.Token+`"}`, withSession(s, true))
	require.Equal(t, 422, rec.Code, "once")

	rec = call(t, w.h, "PUT", site+"/members/"+newcomer, `{"role":"viewer"}`, withSession(owner, true))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, http.StatusForbidden, call(t, w.h, "POST", site+"/segments", `{}`, withSession(s, true)).Code, "now a viewer")

	rec = call(t, w.h, "DELETE", site+"/members/"+w.owner, "", withSession(owner, true))
	require.Equal(t, http.StatusConflict, rec.Code, "the last owner stays")
	rec = call(t, w.h, "PUT", site+"/members/"+w.owner, `{"role":"editor"}`, withSession(owner, true))
	require.Equal(t, http.StatusConflict, rec.Code, "and cannot step down")
	rec = call(t, w.h, "PUT", site+"/members/"+w.other, `{"role":"editor"}`, withSession(owner, true))
	require.Equal(t, http.StatusNotFound, rec.Code, "not a member of this site")

	rec = call(t, w.h, "GET", site+"/members", "", withSession(owner, false))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, decodeAs[MemberListResponse](t, rec).Members, 4)
	rec = call(t, w.h, "DELETE", site+"/members/"+newcomer, "", withSession(owner, true))
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Equal(t, http.StatusForbidden, call(t, w.h, "GET", site+"/segments", "", withSession(s, false)).Code, "removed")

	var actions []string
	for _, e := range w.f.entries() {
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"invitation.create", "member.join", "member.role", "member.remove"}, actions)
}

func TestAuditLogIsPaged(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	for range 5 {
		require.Equal(t, http.StatusCreated, call(t, w.h, "POST", "/v1/sites/"+siteA+"/keys", `{"name":"k","scope":"read"}`,
			withSession(w.login(w.owner), true)).Code)
	}
	require.NoError(t, w.f.Audit(t.Context(), controlplane.AuditEntry{SiteID: siteB, Actor: "key:b", Action: "segment.create"}))
	s := w.login(w.owner)
	path := "/v1/sites/" + siteA + "/audit?limit=3"
	rec := call(t, w.h, "GET", path, "", withSession(s, false))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	first := decodeAs[AuditLogResponse](t, rec)
	require.Len(t, first.Entries, 3)
	require.NotEmpty(t, first.NextCursor)
	rec = call(t, w.h, "GET", path+"&cursor="+first.NextCursor, "", withSession(s, false))
	second := decodeAs[AuditLogResponse](t, rec)
	require.Len(t, second.Entries, 2, "site B's entry is not in A's log")
	require.Empty(t, second.NextCursor)
	for _, e := range append(first.Entries, second.Entries...) {
		require.Equal(t, "key.create", e.Action)
		require.Equal(t, "account:"+w.owner, e.Actor)
	}
	for _, bad := range []string{"?limit=0", "?limit=501", "?cursor=xyz", "?page=2"} {
		rec := call(t, w.h, "GET", "/v1/sites/"+siteA+"/audit"+bad, "", withSession(s, false))
		require.Equal(t, http.StatusBadRequest, rec.Code, bad)
	}
}

func TestAuditFailureDoesNotFailTheChange(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	w.f.failAudit = true
	rec := call(t, w.h, "POST", "/v1/sites/"+siteA+"/segments", `{"name":"buyers","text":"inactive within 30d"}`, bearer(writeKeyA))
	require.Equal(t, http.StatusCreated, rec.Code, "the segment was saved")
	require.Contains(t, w.logs.String(), "audit entry not written", "the operator is told")
}
