package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/privacy"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// privacyPeople: session tokens of accounts with a role on siteA.
var privacyPeople = map[string]string{"owner-token": controlplane.RoleOwner, "editor-token": controlplane.RoleEditor}

type privacySessions struct{}

func (privacySessions) CreateSession(context.Context, string, time.Duration) (controlplane.NewSession, error) {
	return controlplane.NewSession{}, errors.New("not in this test")
}

func (privacySessions) SessionByToken(_ context.Context, token string) (controlplane.Session, error) {
	if _, ok := privacyPeople[token]; !ok {
		return controlplane.Session{}, controlplane.ErrNotFound
	}
	return controlplane.Session{AccountID: "acct-" + token, CSRFToken: "csrf-" + token, ExpiresAt: fixedNow.Add(time.Hour)}, nil
}

func (privacySessions) DeleteSession(context.Context, string) error { return nil }

// privacyMembers is a MemberStore answering roles only.
type privacyMembers struct{ MemberStore }

func (privacyMembers) Role(_ context.Context, siteID, accountID string) (string, error) {
	role, ok := privacyPeople[strings.TrimPrefix(accountID, "acct-")]
	if !ok || siteID != siteA {
		return "", controlplane.ErrNotFound
	}
	return role, nil
}

type privacyAudit struct {
	mu      sync.Mutex
	entries []controlplane.AuditEntry
}

func (a *privacyAudit) Audit(_ context.Context, e controlplane.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *privacyAudit) AuditLog(context.Context, string, int64, int) ([]controlplane.AuditEntry, error) {
	return nil, nil
}

// fakePrivacy stores subjects; Erase removes one and counts a row.
type fakePrivacy struct {
	mu     sync.Mutex
	stored map[privacy.Subject]bool
	err    error
}

func (f *fakePrivacy) Exists(_ context.Context, s privacy.Subject) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stored[s], f.err
}

func (f *fakePrivacy) Export(_ context.Context, s privacy.Subject, w io.Writer) error {
	_, err := fmt.Fprintf(w, `{"site_id":%q,"subscriber_id":%q,"complete":true}`, s.SiteID, s.SubscriberID)
	return err
}

func (f *fakePrivacy) Erase(_ context.Context, s privacy.Subject) (privacy.Erased, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := privacy.Erased{ClickHouse: map[string]uint64{"events": 0}, Postgres: map[string]int64{}}
	if f.err != nil {
		return out, f.err
	}
	if f.stored[s] {
		out.ClickHouse["events"] = 1
		delete(f.stored, s)
	}
	return out, nil
}

func privacyRouter(p *fakePrivacy, audit *privacyAudit) http.Handler {
	return NewRouter(Deps{
		Keys: fakeKeys{keys: map[string]string{keyA: siteA}}, Sessions: privacySessions{}, Members: privacyMembers{},
		Audit: audit, Privacy: p, Now: func() time.Time { return fixedNow }, QueryTimeout: time.Second,
	})
}

func privacyCall(t *testing.T, h http.Handler, method, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	switch {
	case token == keyA:
		req.Header.Set("Authorization", "Bearer "+token)
	case token != "":
		req.AddCookie(&http.Cookie{Name: CookieSession, Value: token})
		req.Header.Set(HeaderCSRF, "csrf-"+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPrivacyRoutesAreForOwnersOnly(t *testing.T) {
	p := &fakePrivacy{stored: map[privacy.Subject]bool{{SiteID: siteA, SubscriberID: "ada"}: true}}
	h := privacyRouter(p, &privacyAudit{})
	for _, tc := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"no principal", http.MethodGet, "/v1/sites/" + siteA + "/subscribers/ada/export", "", http.StatusUnauthorized},
		{"write key", http.MethodGet, "/v1/sites/" + siteA + "/subscribers/ada/export", keyA, http.StatusForbidden},
		{"write key erases", http.MethodDelete, "/v1/sites/" + siteA + "/subscribers/ada", keyA, http.StatusForbidden},
		{"editor", http.MethodGet, "/v1/sites/" + siteA + "/subscribers/ada/export", "editor-token", http.StatusForbidden},
		{"editor erases", http.MethodDelete, "/v1/sites/" + siteA + "/subscribers/ada", "editor-token", http.StatusForbidden},
		{"owner of another site", http.MethodDelete, "/v1/sites/" + siteB + "/subscribers/ada", "owner-token", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, privacyCall(t, h, tc.method, tc.path, tc.token).Code)
		})
	}
	require.True(t, p.stored[privacy.Subject{SiteID: siteA, SubscriberID: "ada"}], "nobody erased ada")
}

func TestExportStreamsTheSubscribersDocument(t *testing.T) {
	p := &fakePrivacy{stored: map[privacy.Subject]bool{{SiteID: siteA, SubscriberID: "ada"}: true}}
	h := privacyRouter(p, &privacyAudit{})
	rec := privacyCall(t, h, http.MethodGet, "/v1/sites/"+siteA+"/subscribers/ada/export", "owner-token")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.Contains(t, rec.Header().Get("Content-Disposition"), "attachment")
	var doc map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Equal(t, map[string]any{"site_id": siteA, "subscriber_id": "ada", "complete": true}, doc)

	rec = privacyCall(t, h, http.MethodGet, "/v1/sites/"+siteA+"/subscribers/bob/export", "owner-token")
	require.Equal(t, http.StatusNotFound, rec.Code, "nothing stored about bob")
}

func TestEraseAnswersCountsAndAudits(t *testing.T) {
	p := &fakePrivacy{stored: map[privacy.Subject]bool{{SiteID: siteA, SubscriberID: "ada"}: true}}
	audit := &privacyAudit{}
	h := privacyRouter(p, audit)
	path := "/v1/sites/" + siteA + "/subscribers/ada"

	for _, total := range []int64{1, 0} { // the second erasure finds nothing, and still succeeds
		rec := privacyCall(t, h, http.MethodDelete, path, "owner-token")
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		var resp ErasureResponse
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
		require.Equal(t, "ada", resp.SubscriberID)
		require.Equal(t, total, resp.Total)
		require.NotEmpty(t, resp.Remains)
	}
	require.Len(t, audit.entries, 2)
	e := audit.entries[0]
	require.Equal(t, siteA, e.SiteID)
	require.Equal(t, "account:acct-owner-token", e.Actor)
	require.Equal(t, "subscriber.erase", e.Action)
	require.Equal(t, erasureTarget(privacy.Subject{SiteID: siteA, SubscriberID: "ada"}), e.Target)
	require.NotContains(t, e.Target, "ada", "the audit log keeps a hash, not the id")

	p.err = errors.New("kafka down")
	rec := privacyCall(t, h, http.MethodDelete, path, "owner-token")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Len(t, audit.entries, 2, "a failed erasure is not audited as done")
}
