package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimitPerPrincipal(t *testing.T) {
	w := newWorld(t, AuthConfig{RatePerMinute: 60, RateBurst: 2}) // the clock stands still: no refill
	segs := "/v1/sites/" + siteA + "/segments"
	for range 2 {
		require.Equal(t, http.StatusOK, call(t, w.h, "GET", segs, "", bearer(writeKeyA)).Code)
	}
	rec := call(t, w.h, "GET", segs, "", bearer(writeKeyA))
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "1", rec.Header().Get("Retry-After"), "one request a second")
	require.NotEmpty(t, problems(t, rec))

	require.Equal(t, http.StatusOK, call(t, w.h, "GET", segs, "", bearer(readKeyA)).Code, "another key has its own budget")
	s := w.login(w.ed)
	require.Equal(t, http.StatusOK, call(t, w.h, "GET", segs, "", withSession(s, false)).Code, "and so has an account")
	require.Equal(t, http.StatusUnauthorized, call(t, w.h, "GET", segs, "", anonymous).Code, "no principal: 401, not 429")
}

func TestRateLimitOnLoginPerClient(t *testing.T) {
	w := newWorld(t, AuthConfig{AuthRatePerMinute: 6, AuthRateBurst: 3})
	body := `{"email":"owner@a.example","password":"wrong password"}`
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, call(t, w.h, "POST", "/v1/auth/login", body, anonymous).Code)
	}
	rec := call(t, w.h, "POST", "/v1/auth/login", `{"email":"owner@a.example","password":"owner password"}`, anonymous)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "even the right password waits")
	require.Equal(t, "10", rec.Header().Get("Retry-After"))
	spoofed := func(r *http.Request) { r.Header.Set("X-Forwarded-For", "198.51.100.7") }
	require.Equal(t, http.StatusTooManyRequests, call(t, w.h, "POST", "/v1/auth/login", body, spoofed).Code,
		"X-Forwarded-For does not make a new client")
}

func TestLimiterRefillsAndForgets(t *testing.T) {
	now := fixedNow
	l := newLimiter(60, 1, func() time.Time { return now })
	require.Zero(t, l.wait("a"))
	require.Equal(t, time.Second, l.wait("a"))
	now = now.Add(time.Second)
	require.Zero(t, l.wait("a"), "a token a second")
	require.Nil(t, newLimiter(0, 10, time.Now), "0 is no limit")

	now = now.Add(limiterIdle + time.Minute)
	require.Zero(t, l.wait("b"))
	l.mu.Lock()
	defer l.mu.Unlock()
	require.Len(t, l.buckets, 1, "idle buckets are forgotten")
}
