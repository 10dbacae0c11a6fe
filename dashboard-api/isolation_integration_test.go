package dashboardapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/api"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

var isolationSummary = flag.String("isolation-summary", "",
	"write `routes=N cross_tenant_leaks=L` of the tenant-isolation test to this file")

// publicRoutes answer without authentication, each for its reason; every
// other route of the router must answer 401 to an anonymous caller.
var publicRoutes = map[string]string{
	"GET /healthz":                         "liveness probe: no data",
	"GET /openapi.yaml":                    "the API's public description: no data",
	"GET /":                                "the web page's shell: its data comes only from the API",
	"HEAD /":                               "the web page's shell: its data comes only from the API",
	"GET /ui/*file":                        "the web page's static files: no data",
	"HEAD /ui/*file":                       "the web page's static files: no data",
	"POST /v1/auth/signup":                 "the way in: takes an e-mail address and a password",
	"POST /v1/auth/login":                  "the way in: takes an e-mail address and a password",
	"POST /v1/auth/password-reset":         "the way back in: answers the same whether or not the account exists",
	"POST /v1/auth/password-reset/confirm": "the way back in: takes the reset token from the e-mail",
}

// tenants is the world of the test: site A (the attacker's: an owner
// account and a write key) and site B (the victim's, with one of every
// resource). marker is in every name and event of B and in no request.
type tenants struct {
	s            stack
	marker       string
	accountA     controlplane.Account
	siteA, siteB controlplane.CreatedSite
	accountB     controlplane.Account
	memberC      controlplane.Account // an editor of B only
	segA         dashboardapi.SegmentResponse
	ids          map[string]string // B's resource ids by the path segment before them
	invitationB  controlplane.Invitation
	subscriberB  string
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// newTenants creates both sites and every resource of B through the real
// stores and API.
func newTenants(t *testing.T) *tenants {
	t.Helper()
	s, ctx, tok := openIsolationStack(t), t.Context(), randomHex(t, 6)
	w := &tenants{s: s, marker: "bsecret" + randomHex(t, 8), subscriberB: "bsub-" + tok}
	account := func(who string) controlplane.Account {
		a, err := s.store.CreateAccount(ctx, who+"-"+tok+"@example.com", "correct horse battery staple")
		require.NoError(t, err)
		return a
	}
	site := func(owner controlplane.Account, name string) controlplane.CreatedSite {
		cs, err := s.store.CreateOwnedSite(ctx, owner.ID, controlplane.NewSite{
			Name: name, AllowedOrigins: []string{"https://example.com"}, Contact: "mailto:ops@example.com",
		})
		require.NoError(t, err)
		return cs
	}
	w.accountA, w.accountB, w.memberC = account("a"), account("b"), account("c")
	w.siteA, w.siteB = site(w.accountA, "isolation a "+tok), site(w.accountB, "site "+w.marker)
	w.segA = s.segment(t, w.siteA, "segment of a")
	w.ids = w.resourcesOfB(t, tok)
	return w
}

func (w *tenants) resourcesOfB(t *testing.T, tok string) map[string]string {
	t.Helper()
	s, ctx, b := w.s, t.Context(), w.siteB
	seg := s.segment(t, b, "segment "+w.marker)
	var aut dashboardapi.AutomationResponse
	code, body := s.call(t, http.MethodPost, sitePath(b.ID, "/automations"), b.APIKey, `{"name":"automation `+w.marker+`","definition":`+welcome+`}`, &aut)
	require.Equal(t, http.StatusCreated, code, body)
	var cmp dashboardapi.CampaignResponse
	code, body = s.call(t, http.MethodPost, sitePath(b.ID, "/campaigns"), b.APIKey, campaignBody("campaign "+w.marker, seg.ID), &cmp)
	require.Equal(t, http.StatusCreated, code, body)
	key, _, err := s.store.CreateAPIKey(ctx, b.ID, "key "+w.marker, controlplane.ScopeRead)
	require.NoError(t, err)
	_, token, err := s.store.CreateInvitation(ctx, b.ID, w.memberC.Email, controlplane.RoleEditor, w.accountB.ID, time.Hour)
	require.NoError(t, err)
	_, _, err = s.store.AcceptInvitation(ctx, token, w.memberC.ID)
	require.NoError(t, err)
	w.invitationB, _, err = s.store.CreateInvitation(ctx, b.ID, "d-"+tok+"@example.com", controlplane.RoleViewer, w.accountB.ID, time.Hour)
	require.NoError(t, err)
	now := time.Now().UTC().Add(-time.Hour)
	s.insertEvents(t, b.ID, []event{{w.subscriberB, "subscribed", now}, {w.subscriberB, "page_view", now.Add(time.Minute)}})
	s.insertRows(t, b.ID, []row{{
		sub: w.subscriberB, typ: "custom", name: "purchase", at: now.Add(2 * time.Minute),
		props: map[string]string{"note": w.marker},
	}})
	return map[string]string{
		"segments": seg.ID, "automations": aut.ID, "campaigns": cmp.ID, "keys": key.ID,
		"invitations": w.invitationB.ID, "members": w.memberC.ID, "subscribers": w.subscriberB, "versions": "1",
	}
}

// openIsolationStack is openStack with every optional dependency of the
// service too, so that no route answers 503 "not configured".
func openIsolationStack(t *testing.T) stack {
	t.Helper()
	db, ch := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	svc, err := dashboardapi.New(dashboardapi.Defaults(), dashboardapi.Deps{
		Keys: store, Accounts: store, Stats: dashboardapi.NewClickHouseStats(ch),
		Segments: store, SegmentData: dashboardapi.NewClickHouseSegmentData(ch),
		Automations: store, Campaigns: store, Settings: store,
		Reports: dashboardapi.NewClickHouseReports(ch), BacktestEvents: dashboardapi.NewClickHouseBacktestEvents(ch),
		Privacy: dashboardapi.NewPrivacy(db, ch, discardProducer{}, nil),
	}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return stack{db: db, ch: ch, store: store, api: svc.Handler()}
}

// discardProducer stands in for the events topic the erasure event goes to.
type discardProducer struct{}

func (discardProducer) WriteMessages(context.Context, ...kafka.Message) error { return nil }

// principal sets the credentials of one caller on a request.
type principal struct {
	name string
	set  func(t *testing.T, r *http.Request)
}

func (w *tenants) principals() (anonymous principal, attackers []principal) {
	anonymous = principal{"anonymous", func(*testing.T, *http.Request) {}}
	session := principal{"session of A", func(t *testing.T, r *http.Request) {
		// a fresh session per request: log-out and member removal must not end the others
		sess, err := w.s.store.CreateSession(t.Context(), w.accountA.ID, time.Hour)
		require.NoError(t, err)
		r.AddCookie(&http.Cookie{Name: api.CookieSession, Value: sess.Token})
		r.Header.Set(api.HeaderCSRF, sess.CSRFToken)
	}}
	key := principal{"write key of A", func(_ *testing.T, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+w.siteA.APIKey)
	}}
	return anonymous, []principal{session, key}
}

// fillPath puts site into :site and B's ids into the other parameters,
// chosen by the path segment before each; missing lists the parameters the
// test has no value for.
func (w *tenants) fillPath(route, site string) (path string, missing []string) {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, ":") && !strings.HasPrefix(p, "*") {
			continue
		}
		if p == ":site" {
			parts[i] = site
			continue
		}
		if id, ok := w.ids[parts[max(i-1, 0)]]; ok {
			parts[i] = id
			continue
		}
		missing = append(missing, p)
	}
	return strings.Join(parts, "/"), missing
}

// query is the query string a route requires, so that a handler reaches
// its store instead of stopping at validation.
func (w *tenants) query(method, route string) string {
	if method == http.MethodGet && strings.HasSuffix(route, "/segments/:id/explain") {
		return "?subscriber=" + w.subscriberB
	}
	return ""
}

// body is a valid request body for a route, so that a handler reaches its
// store instead of stopping at validation; other routes get {}.
func (w *tenants) body(method, route string) (string, http.Header) {
	rest := strings.TrimPrefix(route, "/v1/sites/:site")
	ifMatch := http.Header{"If-Match": {`"1"`}}
	switch method + " " + rest {
	case "POST /segments", "PUT /segments/:id":
		return `{"name":"isolation","rule":` + ruleTwoVisits + `}`, ifMatch
	case "POST /segments/preview":
		return `{"rule":` + ruleTwoVisits + `}`, nil
	case "POST /automations", "PUT /automations/:id":
		return `{"name":"isolation","status":"enabled","definition":` + welcome + `}`, ifMatch
	case "POST /automations/backtest":
		return `{"definition":` + welcome + `}`, nil
	case "POST /automations/:id/status":
		return `{"status":"enabled"}`, nil
	case "POST /campaigns", "PUT /campaigns/:id":
		return campaignBody("isolation", w.segA.ID), nil
	case "PUT /settings":
		return `{"freq_cap_count":1,"send_rate_per_minute":1}`, nil
	case "PUT ":
		return `{"name":"taken over","retention_days":1,"allowed_origins":["https://evil.example"]}`, nil
	case "POST /keys":
		return `{"name":"isolation","scope":"write"}`, nil
	case "PUT /members/:account":
		return `{"role":"owner"}`, nil
	case "POST /invitations":
		return `{"email":"evil-` + w.marker[:6] + `@example.com","role":"owner"}`, nil
	case "POST /v1/sites":
		return `{"name":"isolation new"}`, nil
	case "POST /v1/invitations/accept":
		return `{"token":"` + w.invitationB.ID + `"}`, nil
	}
	return "{}", nil
}

func (w *tenants) do(t *testing.T, p principal, method, path, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	p.set(t, req)
	rec := httptest.NewRecorder()
	w.s.api.ServeHTTP(rec, req)
	return rec
}

// stateOfB is everything an attacker could change about site B, plus the
// roles that must not appear (A on B, C on A).
func (w *tenants) stateOfB(t *testing.T) string {
	t.Helper()
	ctx, st, b := t.Context(), w.s.store, w.siteB.ID
	var out strings.Builder
	add := func(name string, v any, err error) { fmt.Fprintf(&out, "%s=%+v err=%v\n", name, v, err) }
	v1, err := st.Segment(ctx, b, w.ids["segments"])
	add("segment", v1, err)
	v2, err := st.Automation(ctx, b, w.ids["automations"])
	add("automation", v2, err)
	v3, err := st.Campaign(ctx, b, w.ids["campaigns"])
	add("campaign", v3, err)
	v4, err := st.APIKeys(ctx, b)
	add("keys", v4, err)
	v5, err := st.Members(ctx, b)
	add("members", v5, err)
	v6, err := st.Invitations(ctx, b)
	add("invitations", v6, err)
	v7, err := st.SiteByID(ctx, b)
	add("site", v7, err)
	v8, err := st.SitePolicy(ctx, b)
	add("policy", v8, err)
	_, err = st.Role(ctx, b, w.accountA.ID)
	add("role of A on B", "", err)
	_, err = st.Role(ctx, w.siteA.ID, w.memberC.ID)
	add("role of C on A", "", err)
	var events uint64
	err = w.s.ch.QueryRow(ctx, `SELECT count() FROM events WHERE site_id = ? AND subscriber_id = ?`, b, w.subscriberB).Scan(&events)
	add("events of B's subscriber", events, err)
	return out.String()
}

// tally counts what the table found.
type tally struct {
	routes, public, requests int
	leaks                    []string
}

func (l *tally) leak(format string, args ...any) {
	l.leaks = append(l.leaks, fmt.Sprintf(format, args...))
}

func TestTenantIsolationEveryRoute(t *testing.T) {
	w := newTenants(t)
	e, ok := w.s.api.(*gin.Engine)
	require.True(t, ok, "the service's handler is the *gin.Engine whose Routes() the table covers")
	routes := e.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	before := w.stateOfB(t)
	var got tally
	for _, r := range routes {
		got.routes++
		t.Run(r.Method+" "+r.Path, func(t *testing.T) { w.checkRoute(t, r.Method, r.Path, before, &got) })
	}
	if after := w.stateOfB(t); after != before {
		got.leak("site B changed during the table:\nbefore %s\nafter  %s", before, after)
	}
	t.Logf("routes=%d public=%d requests=%d", got.routes, got.public, got.requests)
	line := fmt.Sprintf("routes=%d cross_tenant_leaks=%d\n", got.routes, len(got.leaks))
	if *isolationSummary != "" {
		require.NoError(t, os.WriteFile(*isolationSummary, []byte(line), 0o644))
	}
	for _, l := range got.leaks {
		t.Errorf("cross-tenant leak: %s", l)
	}
	require.Greater(t, got.routes, 40, "the router has the routes of issue 7")
}

// checkRoute runs one route of the table.
func (w *tenants) checkRoute(t *testing.T, method, route, before string, got *tally) {
	anonymous, attackers := w.principals()
	body, header := w.body(method, route)
	if reason, ok := publicRoutes[method+" "+route]; ok {
		got.public++
		path, _ := w.fillPath(strings.ReplaceAll(route, "*file", "index.html"), w.siteB.ID)
		rec := w.do(t, anonymous, method, path, body, header)
		got.requests++
		if strings.Contains(rec.Body.String(), w.marker) {
			got.leak("%s %s (public: %s) answered data of site B", method, route, reason)
		}
		return
	}
	pathB, missing := w.fillPath(route, w.siteB.ID)
	require.Empty(t, missing, "route %s %s has parameters the table has no value of site B for: add them to resourcesOfB", method, route)
	pathB += w.query(method, route)
	rec := w.do(t, anonymous, method, pathB, body, header)
	got.requests++
	require.Equal(t, http.StatusUnauthorized, rec.Code, "anonymous %s %s: %s", method, pathB, rec.Body.String())
	w.checkLeak(t, got, anonymous.name, method, route, rec)

	onSite := strings.HasPrefix(route, "/v1/sites/:site")
	for _, p := range attackers {
		rec := w.do(t, p, method, pathB, body, header)
		got.requests++
		w.checkLeak(t, got, p.name, method, route, rec)
		if onSite {
			if rec.Code/100 == 2 {
				got.leak("%s: %s %s answered %d on site B: %s", p.name, method, pathB, rec.Code, rec.Body.String())
			}
			require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, rec.Code, "%s: %s %s: %s", p.name, method, pathB, rec.Body.String())
		}
		w.checkUnchanged(t, got, before, p.name, method, pathB)
		if onSite && strings.Count(route, ":") > 1 {
			w.checkForeignIDs(t, got, p, method, route, body, header, before)
		}
	}
	if onSite && method == http.MethodGet {
		w.checkOwnerReaches(t, method, pathB)
	}
}

// checkForeignIDs sends B's resource ids under A's own path: the resource
// must not be found, read or changed.
func (w *tenants) checkForeignIDs(t *testing.T, got *tally, p principal, method, route, body string, header http.Header, before string) {
	t.Helper()
	pathA, _ := w.fillPath(route, w.siteA.ID)
	pathA += w.query(method, route)
	rec := w.do(t, p, method, pathA, body, header)
	got.requests++
	w.checkLeak(t, got, p.name, method, route, rec)
	w.checkUnchanged(t, got, before, p.name, method, pathA)
	if strings.Contains(route, "/subscribers/") {
		return // a subscriber id is the site's own name for a browser: A may have one of that name, with its own data
	}
	if rec.Code/100 == 2 {
		got.leak("%s: %s %s (ids of site B under site A) answered %d: %s", p.name, method, pathA, rec.Code, rec.Body.String())
	}
	require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, rec.Code,
		"%s: %s %s (ids of site B under site A): %s", p.name, method, pathA, rec.Body.String())
}

// checkOwnerReaches is the control: B's owner reads the same path, so the
// 403s and 404s above are about the caller, not about a wrong id.
func (w *tenants) checkOwnerReaches(t *testing.T, method, pathB string) {
	t.Helper()
	owner := principal{"session of B", func(t *testing.T, r *http.Request) {
		sess, err := w.s.store.CreateSession(t.Context(), w.accountB.ID, time.Hour)
		require.NoError(t, err)
		r.AddCookie(&http.Cookie{Name: api.CookieSession, Value: sess.Token})
	}}
	rec := w.do(t, owner, method, pathB, "", nil)
	require.True(t, rec.Code/100 == 2 || rec.Code == http.StatusBadRequest,
		"B's owner cannot read %s (%d), so the table proves nothing there: %s", pathB, rec.Code, rec.Body.String())
}

func (w *tenants) checkLeak(t *testing.T, got *tally, who, method, route string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if strings.Contains(rec.Body.String(), w.marker) {
		got.leak("%s: %s %s answered data of site B (%d): %.300s", who, method, route, rec.Code, rec.Body.String())
	}
}

func (w *tenants) checkUnchanged(t *testing.T, got *tally, before, who, method, path string) {
	t.Helper()
	if method == http.MethodGet || method == http.MethodHead {
		return
	}
	if after := w.stateOfB(t); after != before {
		got.leak("%s: %s %s changed site B:\nbefore %s\nafter  %s", who, method, path, before, after)
		t.FailNow() // the rest of the table would compare against a changed B
	}
}
