package dashboardapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// The security tests of issue 8 on the API: hostile bodies, injection
// through rule values and filters, secrets kept out of the logs, and a
// client that never finishes its request. Tenant isolation has its own
// table (isolation_integration_test.go).

// loggedStack is the real API on the real databases, its logs kept.
func loggedStack(t *testing.T) (stack, *testkit.LogBuffer, *dashboardapi.Service) {
	t.Helper()
	db, ch := testdb.Open(t)
	logs := &testkit.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	svc, err := dashboardapi.New(dashboardapi.Defaults(), dashboardapi.Deps{
		Keys: store, Accounts: store, Stats: dashboardapi.NewClickHouseStats(ch),
		Segments: store, SegmentData: dashboardapi.NewClickHouseSegmentData(ch),
		Automations: store, Campaigns: store, Settings: store,
		Reports: dashboardapi.NewClickHouseReports(ch), BacktestEvents: dashboardapi.NewClickHouseBacktestEvents(ch),
	}, log)
	require.NoError(t, err)
	return stack{db: db, ch: ch, store: store, api: svc.Handler()}, logs, svc
}

func (s stack) keyCall(t *testing.T, method, path, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	return rec
}

func TestSecurityHostileBodies(t *testing.T) {
	s, _, _ := loggedStack(t)
	site := s.createSite(t, "hostile bodies")
	path := "/v1/sites/" + site.ID + "/segments"
	deep := `{"name":"deep","rule":` + strings.Repeat(`{"kind":"not","child":`, 20_000) + `{}` + strings.Repeat(`}`, 20_000) + `}`
	cases := []struct {
		name, body string
		want       int
	}{
		{"oversized", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{"deeply nested", deep, http.StatusBadRequest},
		{"deep arrays", `{"name":"x","rule":` + strings.Repeat("[", 50_000) + strings.Repeat("]", 50_000) + `}`, http.StatusBadRequest},
		{"invalid UTF-8 in a value", "{\"name\":\"bad \xff\xfe\",\"text\":\"country = \\\"FR\\\"\"}", http.StatusBadRequest},
		{"invalid UTF-8 in the rule", "{\"name\":\"x\",\"text\":\"country = \\\"\xc3\x28\\\"\"}", http.StatusBadRequest},
		{"not JSON", `name=x`, http.StatusBadRequest},
		{"trailing data", `{"name":"x","text":"country = \"FR\""} {}`, http.StatusBadRequest},
		{"NUL bytes", "{\"name\":\"a\\u0000b\",\"text\":\"country = \\\"\\u0000\\\"\"}", http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := s.keyCall(t, http.MethodPost, path, site.APIKey, c.body)
			require.Equal(t, c.want, rec.Code, rec.Body.String())
			var body dashboardapi.ErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "the one error format")
			require.NotEmpty(t, body.Errors)
		})
	}
	list := s.keyCall(t, http.MethodGet, path, site.APIKey, "")
	require.Equal(t, http.StatusOK, list.Code)
	require.NotContains(t, list.Body.String(), `"name"`, "nothing was saved")
}

// TestSecurityInjection: values that would change a query if they were
// spliced into SQL are compared as values, through segment rules, preview
// and dashboard filters.
func TestSecurityInjection(t *testing.T) {
	s, _, _ := loggedStack(t)
	site := s.createSite(t, "injection")
	now := time.Now().UTC().Truncate(time.Millisecond)
	s.insertEvents(t, site.ID, []event{{"a", "page_view", now.Add(-time.Minute)}, {"b", "subscribed", now.Add(-time.Minute)}})
	payloads := []string{`x' OR 1=1 --`, `') OR ('1'='1`, `\' OR 1=1 --`, `x'); DROP TABLE events; --`, `{site:String}`, `@site`}
	for _, p := range payloads {
		rule, err := json.Marshal(map[string]any{"rule": map[string]any{"kind": "attribute", "field": "attr.plan", "op": "eq", "value": p}})
		require.NoError(t, err)
		rec := s.keyCall(t, http.MethodPost, "/v1/sites/"+site.ID+"/segments/preview", site.APIKey, string(rule))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var preview struct{ Count uint64 }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &preview))
		require.Zero(t, preview.Count, "payload %q matched subscribers", p)

		for _, filter := range []string{"country", "status", "segment"} {
			rec = s.keyCall(t, http.MethodGet, "/v1/sites/"+site.ID+"/subscribers?"+filter+"="+url.QueryEscape(p), site.APIKey, "")
			require.Contains(t, []int{http.StatusOK, http.StatusBadRequest, http.StatusNotFound}, rec.Code, rec.Body.String())
			require.NotContains(t, rec.Body.String(), `"subscriber_id":"b"`, "payload %q widened the %s filter", p, filter)
		}
		rec = s.keyCall(t, http.MethodGet, "/v1/sites/"+site.ID+"/dashboards/events?format=csv&name="+url.QueryEscape(p), site.APIKey, "")
		require.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, rec.Code, rec.Body.String())
	}
	// Still there: nothing was dropped.
	var n uint64
	require.NoError(t, s.ch.QueryRow(t.Context(), `SELECT count() FROM events WHERE site_id = ?`, site.ID).Scan(&n))
	require.Equal(t, uint64(2), n)
}

// TestSecuritySecretsNeverLogged: passwords, session and CSRF tokens and API
// keys go through the API without reaching its logs.
func TestSecuritySecretsNeverLogged(t *testing.T) {
	s, logs, _ := loggedStack(t)
	b := newBrowser(t, s.api)
	email := "secret-" + uuid.NewString()[:8] + "@example.com"
	me := b.signup(email)
	require.Equal(t, http.StatusNoContent, b.do("POST", "/v1/auth/logout", "", nil))
	require.Equal(t, http.StatusUnauthorized, b.do("POST", "/v1/auth/login", `{"email":"`+email+`","password":"a wrong password"}`, nil))
	var login dashboardapi.MeResponse
	require.Equal(t, http.StatusOK, b.do("POST", "/v1/auth/login", `{"email":"`+email+`","password":"a long password"}`, &login))
	b.csrf = login.CSRFToken
	var created struct {
		Site struct{ ID string } `json:"site"`
		ID   string              `json:"id"`
		Key  string              `json:"api_key"`
	}
	require.Equal(t, http.StatusCreated, b.do("POST", "/v1/sites", `{"name":"logs","contact":"mailto:ops@example.com"}`, &created))
	siteID := created.ID
	if siteID == "" {
		siteID = created.Site.ID
	}
	require.NotEmpty(t, siteID)
	var key struct {
		Secret string `json:"secret"`
	}
	require.Equal(t, http.StatusCreated, b.do("POST", "/v1/sites/"+siteID+"/keys", `{"name":"ci","scope":"read"}`, &key))
	require.Equal(t, http.StatusOK, s.keyCall(t, http.MethodGet, "/v1/sites/"+siteID+"/segments", key.Secret, "").Code)
	require.Equal(t, http.StatusUnauthorized, s.keyCall(t, http.MethodGet, "/v1/sites/"+siteID+"/segments", key.Secret+"x", "").Code)

	out := logs.String()
	require.NotEmpty(t, out)
	secrets := map[string]string{
		"password": "a long password", "session": b.cookies[dashboardapi.CookieSession], "csrf": b.csrf,
		"first csrf": me.CSRFToken, "site key": created.Key, "api key": key.Secret,
	}
	for what, v := range secrets {
		if v == "" {
			continue
		}
		require.NotContains(t, out, v, "the %s reached the logs", what)
	}
}

// TestSecuritySlowClient: a client that never finishes its request headers
// is disconnected by the server (ReadHeaderTimeout) instead of holding a
// connection forever.
func TestSecuritySlowClient(t *testing.T) {
	_, _, svc := loggedStack(t)
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = conn.Write([]byte("POST /v1/auth/login HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"))
	require.NoError(t, err)
	// A liveness bound, not a performance figure: the server must give up.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(60*time.Second)))
	_, err = io.ReadAll(bufio.NewReader(conn))
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection whose headers never ended")
	}
}
