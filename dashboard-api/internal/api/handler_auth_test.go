package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cookieOf finds a cookie the answer sets.
func cookieOf(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	res := rec.Result()
	defer func() { _ = res.Body.Close() }()
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie set", name)
	return nil
}

func TestSignupSetsASecureSessionCookie(t *testing.T) {
	w := newWorld(t, AuthConfig{SessionTTL: 2 * time.Hour})
	rec := call(t, w.h, "POST", "/v1/auth/signup", `{"email":"new@shop.example","password":"a long password"}`, anonymous)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	me := decodeAs[MeResponse](t, rec)
	require.Equal(t, "new@shop.example", me.Account.Email)
	require.NotEmpty(t, me.CSRFToken)
	require.Empty(t, me.Sites)

	sess := cookieOf(t, rec, CookieSession)
	require.True(t, sess.HttpOnly, "the page's scripts cannot read the session")
	require.True(t, sess.Secure)
	require.Equal(t, http.SameSiteLaxMode, sess.SameSite)
	require.Equal(t, "/", sess.Path)
	require.Equal(t, fixedNow.Add(2*time.Hour).UTC(), sess.Expires.UTC(), "the cookie ends with the session")
	require.Equal(t, 7200, sess.MaxAge)
	csrf := cookieOf(t, rec, CookieCSRF)
	require.False(t, csrf.HttpOnly, "the page reads the CSRF token")
	require.Equal(t, me.CSRFToken, csrf.Value)

	// The cookie authenticates; the CSRF token is the one of /v1/me.
	s := session{token: sess.Value, csrf: me.CSRFToken}
	rec = call(t, w.h, "GET", "/v1/me", "", withSession(s, false))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	again := decodeAs[MeResponse](t, rec)
	require.Equal(t, me.CSRFToken, again.CSRFToken)
	require.Equal(t, *me.ExpiresAt, *again.ExpiresAt)

	rec = call(t, w.h, "POST", "/v1/auth/signup", `{"email":"NEW@shop.example","password":"another password"}`, anonymous)
	require.Equal(t, http.StatusConflict, rec.Code, "one account per address, in any case")
}

func TestInsecureCookiesForPlainHTTPDevelopment(t *testing.T) {
	w := newWorld(t, AuthConfig{InsecureCookies: true})
	rec := call(t, w.h, "POST", "/v1/auth/login", `{"email":"owner@a.example","password":"owner password"}`, anonymous)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.False(t, cookieOf(t, rec, CookieSession).Secure)
	require.True(t, cookieOf(t, rec, CookieSession).HttpOnly)
}

func TestSignupValidation(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	tests := []struct {
		name, body string
		status     int
		fields     []string
	}{
		{"short password, bad address", `{"email":"nope","password":"short"}`, 422, []string{"email", "password"}},
		{"address with a name", `{"email":"Ana <ana@x.example>","password":"a long password"}`, 422, []string{"email"}},
		{"unknown field", `{"email":"a@x.example","password":"a long password","admin":true}`, 400, []string{"admin"}},
		{"no body", ``, 400, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := call(t, w.h, "POST", "/v1/auth/signup", tt.body, anonymous)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			var fields []string
			for _, p := range problems(t, rec) {
				fields = append(fields, p.Field)
			}
			require.Equal(t, tt.fields, fields)
		})
	}
}

func TestCredentialsMustBeJSON(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	form := func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }
	for _, path := range []string{"/v1/auth/login", "/v1/auth/signup", "/v1/auth/password-reset"} {
		rec := call(t, w.h, "POST", path, `{"email":"owner@a.example","password":"owner password"}`, form)
		require.Equal(t, http.StatusUnsupportedMediaType, rec.Code, path)
		require.Empty(t, rec.Result().Cookies()) //nolint:bodyclose // a recorder's body
	}
}

func TestLoginAndLogout(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	rec := call(t, w.h, "POST", "/v1/auth/login", `{"email":"owner@a.example","password":"wrong password"}`, anonymous)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	wrongPassword := rec.Body.String()
	rec = call(t, w.h, "POST", "/v1/auth/login", `{"email":"nobody@a.example","password":"owner password"}`, anonymous)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Equal(t, wrongPassword, rec.Body.String(), "an unknown address gets the same answer")

	rec = call(t, w.h, "POST", "/v1/auth/login", `{"email":"Owner@A.example","password":"owner password"}`, anonymous)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	me := decodeAs[MeResponse](t, rec)
	require.Equal(t, []SiteRoleResponse{{ID: siteA, Name: "a", Role: "owner"}}, me.Sites)
	s := session{token: cookieOf(t, rec, CookieSession).Value, csrf: me.CSRFToken}

	rec = call(t, w.h, "POST", "/v1/auth/logout", "", withSession(s, false))
	require.Equal(t, http.StatusForbidden, rec.Code, "logging out needs the CSRF token")
	rec = call(t, w.h, "POST", "/v1/auth/logout", "", withSession(s, true))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, -1, cookieOf(t, rec, CookieSession).MaxAge, "the cookie is deleted")

	rec = call(t, w.h, "GET", "/v1/me", "", withSession(s, false))
	require.Equal(t, http.StatusUnauthorized, rec.Code, "the session has ended")
	rec = call(t, w.h, "POST", "/v1/auth/logout", "", bearer(writeKeyA))
	require.Equal(t, http.StatusForbidden, rec.Code, "an API key has no session")
}

func TestMeOfAnAPIKey(t *testing.T) {
	w := newWorld(t, AuthConfig{})
	rec := call(t, w.h, "GET", "/v1/me", "", bearer(readKeyA))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	me := decodeAs[MeResponse](t, rec)
	require.Nil(t, me.Account)
	require.Equal(t, "read", me.Key.Scope)
	require.Equal(t, []SiteRoleResponse{{ID: siteA, Name: "a", Role: "read"}}, me.Sites)
	require.Equal(t, http.StatusUnauthorized, call(t, w.h, "GET", "/v1/me", "", anonymous).Code)
}

var resetLink = regexp.MustCompile(`"link":"([^"]+)"`)

func TestPasswordReset(t *testing.T) {
	w := newWorld(t, AuthConfig{PublicURL: "https://push.example.com"})
	old := w.login(w.owner)
	rec := call(t, w.h, "POST", "/v1/auth/password-reset", `{"email":"nobody@a.example"}`, anonymous)
	require.Equal(t, http.StatusAccepted, rec.Code)
	unknown := rec.Body.String()
	require.NotContains(t, w.logs.String(), "password reset link")

	rec = call(t, w.h, "POST", "/v1/auth/password-reset", `{"email":"owner@a.example"}`, anonymous)
	require.Equal(t, http.StatusAccepted, rec.Code)
	require.Equal(t, unknown, rec.Body.String(), "the answer does not tell whether the account exists")
	m := resetLink.FindStringSubmatch(w.logs.String())
	require.NotNil(t, m, "the e-mail is a logged link: %s", w.logs.String())
	link, err := url.Parse(m[1])
	require.NoError(t, err)
	require.Equal(t, "push.example.com", link.Host)
	q, err := url.ParseQuery(link.Fragment[len("/reset?"):])
	require.NoError(t, err)
	token := q.Get("token")

	rec = call(t, w.h, "POST", "/v1/auth/password-reset/confirm", `{"token":"`+token+`","password":"short"}`, anonymous)
	require.Equal(t, 422, rec.Code)
	rec = call(t, w.h, "POST", "/v1/auth/password-reset/confirm", `{"token":"`+token+`","password":"the new password"}`, anonymous)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	rec = call(t, w.h, "POST", "/v1/auth/password-reset/confirm", `{"token":"`+token+`","password":"a third password"}`, anonymous)
	require.Equal(t, 422, rec.Code, "a reset token works once")
	require.Equal(t, "token", problems(t, rec)[0].Field)

	require.Equal(t, http.StatusUnauthorized, call(t, w.h, "GET", "/v1/me", "", withSession(old, false)).Code, "old sessions end")
	rec = call(t, w.h, "POST", "/v1/auth/login", `{"email":"owner@a.example","password":"the new password"}`, anonymous)
	require.Equal(t, http.StatusOK, rec.Code)
}
