package sender

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// VAPID token lifetimes: each token is valid 12 h (RFC 8292 §2: at most
// 24 h), and reused for 4 h, so a push service always sees at least 8 h
// of validity left.
const (
	jwtLifetime = 12 * time.Hour
	jwtReuse    = 4 * time.Hour
)

// jwtHeader is the ES256 header webpush-go (golang-jwt) writes, base64url:
// {"alg":"ES256","typ":"JWT"}.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT"}`))

// jwtCache keeps one signed Authorization header per site and push-service
// origin: signing is the costliest step of a push after the ECDH of the
// encryption, and its result is the same for every message to that origin.
type jwtCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[jwtKey]signedJWT
}

type jwtKey struct{ site, origin string }

type signedJWT struct {
	header   string // Authorization header value: vapid t=<jwt>, k=<public key>
	refresh  time.Time
	contact  string
	keyOwner string // public key it was signed for: a rotated key signs afresh
}

func newJWTCache() *jwtCache {
	return &jwtCache{now: time.Now, m: map[jwtKey]signedJWT{}}
}

// authorization returns the Authorization header for a push to endpoint,
// signing a new token when the cached one is older than jwtReuse.
func (c *jwtCache) authorization(site string, keys vapidKeys, endpoint string) (string, error) {
	origin, err := originOf(endpoint)
	if err != nil {
		return "", err
	}
	k := jwtKey{site, origin}
	now := c.now()
	c.mu.Lock()
	s, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Before(s.refresh) && s.contact == keys.Contact && s.keyOwner == keys.Public {
		return s.header, nil
	}
	h, err := signVAPID(keys, origin, now.Add(jwtLifetime))
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.m[k] = signedJWT{header: h, refresh: now.Add(jwtReuse), contact: keys.Contact, keyOwner: keys.Public}
	c.mu.Unlock()
	return h, nil
}

// signVAPID signs the claims webpush-go signs, in its order (aud, exp,
// sub), and formats the header as it does.
func signVAPID(keys vapidKeys, aud string, exp time.Time) (string, error) {
	if keys.signer == nil {
		return "", fmt.Errorf("sign vapid token: %w", errBadVAPIDKey)
	}
	sub := keys.Contact
	if !strings.HasPrefix(sub, "https:") && !strings.HasPrefix(sub, "mailto:") {
		sub = "mailto:" + sub
	}
	claims, err := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{aud, exp.Unix(), sub})
	if err != nil {
		return "", fmt.Errorf("sign vapid token: %w", err)
	}
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, keys.signer, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign vapid token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + signing + "." + base64.RawURLEncoding.EncodeToString(sig) + ", k=" + keys.Public, nil
}

// parseVAPIDPrivate reads a base64url raw P-256 scalar.
func parseVAPIDPrivate(private string) (*ecdsa.PrivateKey, error) {
	raw, err := decodeKey(private)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadVAPIDKey, err)
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadVAPIDKey, err)
	}
	return k, nil
}

// originOf is the JWT aud for an endpoint: scheme://host[:port].
func originOf(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("endpoint %q has no origin", endpoint)
	}
	return u.Scheme + "://" + u.Host, nil
}
