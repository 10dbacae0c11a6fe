package pushservice

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// push is a hand-made push request, so that tests can break any part of it.
type push struct {
	alg       string
	claims    map[string]any
	signer    *ecdsa.PrivateKey // signs the JWT
	published *ecdsa.PrivateKey // its public key is sent as k=
	auth      *string           // overrides the whole Authorization header
	header    http.Header
	body      []byte
}

func newECDSA(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func pubKey(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	b, err := k.PublicKey.Bytes()
	require.NoError(t, err)
	return b64.EncodeToString(b)
}

// validPush is what a correct sender sends to sub: every check passes.
func validPush(t *testing.T, s *Server, sub Subscription, key *ecdsa.PrivateKey, payload []byte) *push {
	t.Helper()
	ua, err := ecdh.P256().NewPublicKey(unb64(t, sub.P256dh))
	require.NoError(t, err)
	return &push{
		alg:       "ES256",
		claims:    map[string]any{"aud": s.URL(), "exp": time.Now().Add(12 * time.Hour).Unix(), "sub": "mailto:ops@example.com"},
		signer:    key,
		published: key,
		header:    http.Header{"Ttl": {"30"}, "Content-Encoding": {"aes128gcm"}},
		body:      encryptMessage(t, ua, unb64(t, sub.Auth), payload, 4096, 0),
	}
}

func signJWT(t *testing.T, key *ecdsa.PrivateKey, alg string, claims map[string]any) string {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"typ": "JWT", "alg": alg})
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	signing := b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	require.NoError(t, err)
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	return signing + "." + b64.EncodeToString(sig)
}

// do sends p to endpoint and returns the status code.
func (p *push) do(t *testing.T, endpoint string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint, bytes.NewReader(p.body))
	require.NoError(t, err)
	req.Header = p.header
	if p.auth != nil {
		req.Header.Set("Authorization", *p.auth)
	} else {
		req.Header.Set("Authorization", "vapid t="+signJWT(t, p.signer, p.alg, p.claims)+", k="+pubKey(t, p.published))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func ptr(s string) *string { return &s }

func TestPushRequestsAreCheckedLikeAPushService(t *testing.T) {
	s := start(t)
	tests := []struct {
		name   string
		edit   func(p *push)
		status int
		reason string // substring of the recorded reason
	}{
		{"valid", func(*push) {}, 201, ""},
		{"JWT signed by another key than k=", func(p *push) { p.signer = newECDSA(t) }, 401, "signature does not verify"},
		{"aud names another push service", func(p *push) { p.claims["aud"] = "https://fcm.googleapis.com" }, 401, "is not the push service origin"},
		{"aud with a path", func(p *push) { p.claims["aud"] = s.URL() + "/push" }, 401, "is not the push service origin"},
		{"exp more than 24 h ahead", func(p *push) { p.claims["exp"] = time.Now().Add(25 * time.Hour).Unix() }, 401, "more than 24h ahead"},
		{"exp passed", func(p *push) { p.claims["exp"] = time.Now().Add(-time.Minute).Unix() }, 401, "has passed"},
		{"no exp", func(p *push) { delete(p.claims, "exp") }, 401, "no exp"},
		{"no sub", func(p *push) { delete(p.claims, "sub") }, 401, "JWT sub"},
		{"sub http:", func(p *push) { p.claims["sub"] = "http://example.com" }, 401, "neither mailto"},
		{"sub mailto without address", func(p *push) { p.claims["sub"] = "mailto:" }, 401, "neither mailto"},
		{"sub https: accepted", func(p *push) { p.claims["sub"] = "https://example.com/contact" }, 201, ""},
		{"alg other than ES256", func(p *push) { p.alg = "HS256" }, 401, "alg"},
		{"no Authorization", func(p *push) { p.auth = ptr("") }, 401, "missing Authorization"},
		{"legacy WebPush scheme", func(p *push) { p.auth = ptr("WebPush eyJ.eyJ.sig") }, 401, "is not vapid"},
		{"k= not a key", func(p *push) { p.auth = ptr("vapid t=a.b.c, k=AAAA") }, 401, "not a P-256 public key"},
		{"token not a JWT", func(p *push) { p.auth = ptr("vapid t=abc, k=" + pubKey(t, p.published)) }, 401, "JWT has 1 parts"},
		{"no TTL", func(p *push) { p.header.Del("TTL") }, 400, "missing TTL"},
		{"TTL negative", func(p *push) { p.header.Set("TTL", "-1") }, 400, "not a non-negative integer"},
		{"Urgency unknown", func(p *push) { p.header.Set("Urgency", "urgent") }, 400, "Urgency"},
		{"Topic over 32 characters", func(p *push) { p.header.Set("Topic", string(bytes.Repeat([]byte("a"), 33))) }, 400, "Topic"},
		{"Topic outside base64url", func(p *push) { p.header.Set("Topic", "a b") }, 400, "Topic"},
		{"legacy aesgcm encoding", func(p *push) { p.header.Set("Content-Encoding", "aesgcm") }, 400, "not aes128gcm"},
		{"encrypted for another subscription", func(p *push) {
			p.body = encryptMessage(t, newP256Key().PublicKey(), randomBytes(16), []byte("x"), 4096, 0)
		}, 400, "does not decrypt"},
		{"body over 4096 bytes", func(p *push) { p.body = make([]byte, 4097) }, 413, "exceeds 4096"},
		{"no payload", func(p *push) { p.body = nil; p.header.Del("Content-Encoding") }, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := s.NewSubscription(Behaviour{})
			p := validPush(t, s, sub, newECDSA(t), []byte("payload"))
			tt.edit(p)
			require.Equal(t, tt.status, p.do(t, sub.Endpoint))
			got := s.Received(sub.ID)
			require.Len(t, got, 1)
			require.Equal(t, tt.status, got[0].Status)
			if tt.reason == "" {
				require.Empty(t, got[0].Reason)
			} else {
				require.Contains(t, got[0].Reason, tt.reason)
			}
		})
	}
}

func TestBoundSubscriptionRefusesOtherKeysWith403(t *testing.T) {
	s := start(t)
	owner := newECDSA(t)
	sub, err := s.NewBoundSubscription(Behaviour{}, pubKey(t, owner))
	require.NoError(t, err)

	require.Equal(t, http.StatusForbidden, validPush(t, s, sub, newECDSA(t), []byte("x")).do(t, sub.Endpoint))
	require.Contains(t, s.Received(sub.ID)[0].Reason, "bound to")
	require.Equal(t, http.StatusCreated, validPush(t, s, sub, owner, []byte("x")).do(t, sub.Endpoint))

	_, err = s.NewBoundSubscription(Behaviour{}, "not-a-key")
	require.Error(t, err)
}
