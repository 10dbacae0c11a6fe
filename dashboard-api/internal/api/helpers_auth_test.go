package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// world is a router over fakes with two sites, A and B, and people with
// every role on site A.
type world struct {
	h     http.Handler
	f     *fakeAccounts
	segs  *fakeSegments
	logs  *bytes.Buffer
	owner string // account ids on site A
	ed    string
	view  string
	other string // owner of site B only
}

const (
	writeKeyA = "ppk_write_key_of_site_a"
	readKeyA  = "ppk_read_key_of_site_a"
	writeKeyB = "ppk_write_key_of_site_b"
)

func newWorld(t *testing.T, auth AuthConfig) *world {
	t.Helper()
	f := newFakeAccounts(func() time.Time { return fixedNow })
	f.addSite(siteA, "a")
	f.addSite(siteB, "b")
	w := &world{f: f, segs: newFakeSegments(), logs: &bytes.Buffer{}}
	w.owner = f.addAccount("owner@a.example", "owner password")
	w.ed = f.addAccount("editor@a.example", "editor password")
	w.view = f.addAccount("viewer@a.example", "viewer password")
	w.other = f.addAccount("owner@b.example", "other password")
	f.setRole(siteA, w.owner, controlplane.RoleOwner)
	f.setRole(siteA, w.ed, controlplane.RoleEditor)
	f.setRole(siteA, w.view, controlplane.RoleViewer)
	f.setRole(siteB, w.other, controlplane.RoleOwner)
	f.addKey(siteA, writeKeyA, controlplane.ScopeWrite)
	f.addKey(siteA, readKeyA, controlplane.ScopeRead)
	f.addKey(siteB, writeKeyB, controlplane.ScopeWrite)
	w.h = NewRouter(Deps{
		Keys: f, Sessions: f, Accounts: f, Members: f, Sites: f, KeyAdmin: f, Audit: f, Auth: auth,
		Stats: &fakeStats{}, Segments: w.segs, SegmentData: &fakeSegmentData{}, Settings: newFakeSettings(),
		Automations: newFakeAutomations(), Campaigns: newFakeCampaigns(),
		Log: slog.New(slog.NewJSONHandler(w.logs, nil)), Now: func() time.Time { return fixedNow }, QueryTimeout: time.Second,
	})
	return w
}

// login gives a session of the account that lasts an hour after fixedNow.
func (w *world) login(account string) session {
	token, csrf := w.f.addSession(account, fixedNow.Add(time.Hour))
	return session{token: token, csrf: csrf}
}

type session struct{ token, csrf string }

// auth is how a request authenticates.
type auth func(*http.Request)

func bearer(key string) auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
}

// withSession sends the session cookie and, when csrf is true, the CSRF header.
func withSession(s session, csrf bool) auth {
	return func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: CookieSession, Value: s.token})
		if csrf {
			r.Header.Set(HeaderCSRF, s.csrf)
		}
	}
}

func anonymous(*http.Request) {}

// call sends a request with a JSON body (none when body is "").
func call(t *testing.T, h http.Handler, method, path, body string, a auth) *httptest.ResponseRecorder {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	if body != "" || method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = "192.0.2.1:1234"
	a(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decode reads a JSON answer.
func decodeAs[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

// problems reads the error answer.
func problems(t *testing.T, rec *httptest.ResponseRecorder) []Problem {
	t.Helper()
	return decodeAs[ErrorBody](t, rec).Errors
}
