package dashboardapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/dashboard-api/internal/api"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// notAPI are the routes the OpenAPI document leaves out, with the reason.
var notAPI = map[string]string{
	"GET /":           "the web page, not part of the REST API",
	"GET /ui/{file}":  "the web page's static files, not part of the REST API",
	"HEAD /":          "the web page, not part of the REST API",
	"HEAD /ui/{file}": "the web page's static files, not part of the REST API",
}

// loadSpec parses and validates the embedded OpenAPI document.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(dashboardapi.OpenAPI())
	require.NoError(t, err, "parse openapi.yaml")
	require.NoError(t, doc.Validate(context.Background()), "openapi.yaml is not a valid OpenAPI 3 document")
	return doc
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// specPath writes a Gin route path the OpenAPI way: /a/:b/*c -> /a/{b}/{c}.
func specPath(ginPath string) string { return ginParam.ReplaceAllString(ginPath, "{$1}") }

// registered lists the router's routes as "METHOD /path/{param}".
func registered(t *testing.T, h http.Handler) []string {
	t.Helper()
	e, ok := h.(*gin.Engine)
	require.True(t, ok, "the router is a *gin.Engine, whose Routes() the spec is checked against")
	var out []string
	for _, r := range e.Routes() {
		out = append(out, r.Method+" "+specPath(r.Path))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// documented lists the spec's operations as "METHOD /path/{param}".
func documented(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadSpec(t)
	var routes []string
	for _, r := range registered(t, newSpecRouter(t, api.AuthConfig{})) {
		if _, skip := notAPI[r]; !skip {
			routes = append(routes, r)
		}
	}
	specd := documented(doc)
	var missing, extra []string
	for _, r := range routes {
		if !slices.Contains(specd, r) {
			missing = append(missing, r)
		}
	}
	for _, o := range specd {
		if !slices.Contains(routes, o) {
			extra = append(extra, o)
		}
	}
	require.Empty(t, missing, "routes the router registers but openapi.yaml does not document")
	require.Empty(t, extra, "operations openapi.yaml documents but the router does not register")
	require.NotEmpty(t, routes)
}

func TestOpenAPIServedDocumentIsTheEmbeddedOne(t *testing.T) {
	rec := serve(t, newSpecRouter(t, api.AuthConfig{}), http.MethodGet, "/openapi.yaml", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, dashboardapi.OpenAPI(), rec.Body.Bytes())
	require.Equal(t, "application/yaml; charset=utf-8", rec.Header().Get("Content-Type"))
}

// Every refusal of the real router, for every documented operation, must be
// a response the spec documents for that operation, in the Problem format.
func TestOpenAPIErrorResponsesMatchTheSpec(t *testing.T) {
	doc := loadSpec(t)
	h := newSpecRouter(t, api.AuthConfig{})
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			secured := op.Security == nil || len(*op.Security) > 0
			if !secured {
				continue
			}
			t.Run(method+" "+path, func(t *testing.T) {
				url := fill(path, siteB)
				rec := serve(t, h, method, url, "{}", nil)
				require.Equal(t, http.StatusUnauthorized, rec.Code, "unauthenticated: %s", rec.Body.String())
				validate(t, doc, path, item, method, op, url, rec)

				rec = serve(t, h, method, url, "{}", http.Header{"Authorization": {"Bearer unknown-key"}})
				require.Equal(t, http.StatusUnauthorized, rec.Code, "unknown key: %s", rec.Body.String())
				validate(t, doc, path, item, method, op, url, rec)

				if strings.Contains(path, "{site}") {
					rec = serve(t, h, method, url, "{}", http.Header{"Authorization": {"Bearer " + keyA}})
					require.Equal(t, http.StatusForbidden, rec.Code, "a key of site A on site B: %s", rec.Body.String())
					validate(t, doc, path, item, method, op, url, rec)
					if method != http.MethodGet {
						rec = serve(t, h, method, fill(path, siteA), "{}", http.Header{"Cookie": {api.CookieSession + "=" + sessionA}})
						require.Equal(t, http.StatusForbidden, rec.Code, "a session without its CSRF token: %s", rec.Body.String())
						validate(t, doc, path, item, method, op, fill(path, siteA), rec)
					}
				}
				checked++
			})
		}
	}
	require.Greater(t, checked, 40, "operations checked")
}

func TestOpenAPIOtherErrorsMatchTheSpec(t *testing.T) {
	doc := loadSpec(t)
	key := http.Header{"Authorization": {"Bearer " + keyA}}
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		header                   http.Header
		auth                     api.AuthConfig
		want                     int
	}{
		{"unknown query parameter", http.MethodGet, "/v1/sites/{site}/segments?colour=red", "", key, api.AuthConfig{}, http.StatusBadRequest},
		{"body not JSON", http.MethodPost, "/v1/auth/signup", "not json", nil, api.AuthConfig{}, http.StatusBadRequest},
		{"invalid e-mail address", http.MethodPost, "/v1/auth/signup", `{"email":"nobody","password":"long enough password"}`, nil, api.AuthConfig{}, http.StatusUnprocessableEntity},
		{"body too large", http.MethodPost, "/v1/sites/{site}/segments", big, key, api.AuthConfig{}, http.StatusRequestEntityTooLarge},
		{"no such segment", http.MethodGet, "/v1/sites/{site}/segments/{id}", "", key, api.AuthConfig{}, http.StatusNotFound},
		{"no such automation", http.MethodGet, "/v1/sites/{site}/automations/{id}", "", key, api.AuthConfig{}, http.StatusNotFound},
		{"no such campaign", http.MethodGet, "/v1/sites/{site}/campaigns/{id}", "", key, api.AuthConfig{}, http.StatusNotFound},
		{"a read key cannot write", http.MethodPost, "/v1/sites/{site}/segments", "{}", http.Header{"Authorization": {"Bearer " + readKeyA}}, api.AuthConfig{}, http.StatusForbidden},
		{"an API key on an owner route", http.MethodGet, "/v1/sites/{site}/keys", "", key, api.AuthConfig{}, http.StatusForbidden},
		{"rate limited", http.MethodGet, "/v1/sites/{site}/segments/{id}", "", key, api.AuthConfig{RatePerMinute: 1, RateBurst: 1}, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSpecRouter(t, tc.auth)
			path, _, _ := strings.Cut(tc.path, "?")
			url := fill(tc.path, siteA)
			item := doc.Paths.Find(path)
			require.NotNil(t, item, path)
			op := item.GetOperation(tc.method)
			require.NotNil(t, op, tc.method+" "+path)
			rec := serve(t, h, tc.method, url, tc.body, tc.header)
			if tc.want == http.StatusTooManyRequests {
				rec = serve(t, h, tc.method, url, tc.body, tc.header)
			}
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			validate(t, doc, path, item, strings.ToLower(tc.method), op, url, rec)
		})
	}
	t.Run("no such route", func(t *testing.T) {
		rec := serve(t, newSpecRouter(t, api.AuthConfig{}), http.MethodGet, "/v1/nothing/here", "", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
		var body any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.NoError(t, doc.Components.Schemas["ErrorBody"].Value.VisitJSON(body))
	})
}

func TestOpenAPIErrorSchemaRejectsOtherShapes(t *testing.T) {
	schema := loadSpec(t).Components.Schemas["ErrorBody"].Value
	for _, body := range []string{`{"error":"x"}`, `{"errors":[]}`, `{"errors":[{"field":"a"}]}`, `{"errors":"x"}`} {
		var v any
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		require.Error(t, schema.VisitJSON(v), body)
	}
	var v any
	require.NoError(t, json.Unmarshal([]byte(`{"errors":[{"field":"a","problem":"b"}]}`), &v))
	require.NoError(t, schema.VisitJSON(v))
}

// validate checks a response against the operation: its status must be
// documented, and its body must match the documented schema.
func validate(t *testing.T, doc *openapi3.T, path string, item *openapi3.PathItem, method string, op *openapi3.Operation, url string, rec *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), strings.ToUpper(method), url, nil)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: doc, Path: path, PathItem: item, Method: strings.ToUpper(method), Operation: op},
		},
		Status:  rec.Code,
		Header:  rec.Header(),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(rec.Body.Bytes())
	require.NoError(t, openapi3filter.ValidateResponse(t.Context(), in), "%s %s answered %d %s", strings.ToUpper(method), url, rec.Code, rec.Body.String())
}

// The principals of the spec router: site A has a write key, a read key and
// an owner's session; site B exists only in paths.
const (
	siteA    = "11111111-1111-4111-8111-111111111111"
	siteB    = "22222222-2222-4222-8222-222222222222"
	keyA     = "pp_key_of_site_a"
	readKeyA = "pp_read_key_of_site_a"
	sessionA = "ppsess_of_account_a"
)

// fill puts site and placeholder ids into a documented path.
func fill(path, site string) string {
	path = strings.ReplaceAll(path, "{site}", site)
	return regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllStringFunc(path, func(p string) string {
		if p == "{version}" {
			return "1"
		}
		return "33333333-3333-4333-8333-333333333333"
	})
}

func serve(t *testing.T, h http.Handler, method, url, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	var r *bytes.Reader
	if body != "" {
		r = bytes.NewReader([]byte(body))
	} else {
		r = bytes.NewReader(nil)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, url, r)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// newSpecRouter is the real router over stores that know site A's
// principals and nothing else.
func newSpecRouter(t *testing.T, auth api.AuthConfig) http.Handler {
	t.Helper()
	f := specFakes{}
	return api.NewRouter(api.Deps{
		Keys: f, Sessions: f, Members: f, Segments: f, Automations: f, Campaigns: f,
		Auth: auth, OpenAPI: dashboardapi.OpenAPI(),
	})
}

// specFakes answers only what the middleware and the not-found answers need;
// the embedded interfaces are nil, so any other call fails the test loudly.
type specFakes struct {
	api.Sessions
	api.MemberStore
	api.SegmentStore
	api.AutomationStore
	api.CampaignStore
}

func (specFakes) APIKeyByToken(_ context.Context, token string) (controlplane.APIKey, error) {
	switch token {
	case keyA:
		return controlplane.APIKey{ID: "k1", SiteID: siteA, Scope: controlplane.ScopeWrite}, nil
	case readKeyA:
		return controlplane.APIKey{ID: "k2", SiteID: siteA, Scope: controlplane.ScopeRead}, nil
	}
	return controlplane.APIKey{}, controlplane.ErrNotFound
}

func (specFakes) SessionByToken(_ context.Context, token string) (controlplane.Session, error) {
	if token == sessionA {
		return controlplane.Session{AccountID: "a1", Email: "a@example.com", CSRFToken: "csrf-a"}, nil
	}
	return controlplane.Session{}, controlplane.ErrNotFound
}

func (specFakes) Role(_ context.Context, site, account string) (string, error) {
	if site == siteA && account == "a1" {
		return controlplane.RoleOwner, nil
	}
	return "", controlplane.ErrNotFound
}

func (specFakes) Segment(context.Context, string, string) (controlplane.Segment, error) {
	return controlplane.Segment{}, controlplane.ErrNotFound
}

func (specFakes) Automation(context.Context, string, string) (controlplane.Automation, error) {
	return controlplane.Automation{}, controlplane.ErrNotFound
}

func (specFakes) Campaign(context.Context, string, string) (controlplane.Campaign, error) {
	return controlplane.Campaign{}, controlplane.ErrNotFound
}

// Every route, answered by the real service over real Postgres and
// ClickHouse with data in them, must answer what the spec documents: the
// owner's reads (2xx, or 400 where a parameter is required) and creations,
// and the other tenant's refusals of every route.
func TestOpenAPIAnswersOfTheRealService(t *testing.T) {
	doc := loadSpec(t)
	w := newTenants(t)
	e, ok := w.s.api.(*gin.Engine)
	require.True(t, ok)
	_, attackers := w.principals()
	owner := principal{"session of B", func(t *testing.T, r *http.Request) {
		sess, err := w.s.store.CreateSession(t.Context(), w.accountB.ID, time.Hour)
		require.NoError(t, err)
		r.AddCookie(&http.Cookie{Name: api.CookieSession, Value: sess.Token})
		r.Header.Set(api.HeaderCSRF, sess.CSRFToken)
	}}
	checked := 0
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/sites/:site") {
			continue
		}
		path := specPath(r.Path)
		item := doc.Paths.Find(path)
		require.NotNil(t, item, "%s is not documented", path)
		op := item.GetOperation(r.Method)
		require.NotNil(t, op, "%s %s is not documented", r.Method, path)
		body, header := w.body(r.Method, r.Path)
		urlB, missing := w.fillPath(r.Path, w.siteB.ID)
		require.Empty(t, missing)
		urlA, _ := w.fillPath(r.Path, w.siteA.ID)
		urlA, urlB = urlA+w.query(r.Method, r.Path), urlB+w.query(r.Method, r.Path)
		for _, p := range attackers {
			validate(t, doc, path, item, r.Method, op, urlB, w.do(t, p, r.Method, urlB, body, header))
			validate(t, doc, path, item, r.Method, op, urlA, w.do(t, p, r.Method, urlA, body, header))
		}
		if r.Method == http.MethodGet || !strings.Contains(strings.TrimPrefix(r.Path, "/v1/sites/:site"), ":") {
			rec := w.do(t, owner, r.Method, urlB, body, header)
			require.Less(t, rec.Code, http.StatusInternalServerError, "%s %s: %s", r.Method, urlB, rec.Body.String())
			validate(t, doc, path, item, r.Method, op, urlB, rec)
		}
		checked++
	}
	require.Greater(t, checked, 50, "routes checked")
}
