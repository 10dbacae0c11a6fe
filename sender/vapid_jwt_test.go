package sender

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"
)

func testVAPIDKeys(t *testing.T, contact string) vapidKeys {
	t.Helper()
	priv, pub, err := webpush.GenerateVAPIDKeys()
	require.NoError(t, err)
	signer, err := parseVAPIDPrivate(priv)
	require.NoError(t, err)
	return vapidKeys{Public: pub, Private: priv, Contact: contact, signer: signer}
}

// splitVAPID returns the JWT's header and claims (decoded) and checks its
// signature with the k= key.
func splitVAPID(t *testing.T, header string) (jwtHead string, claims map[string]any) {
	t.Helper()
	rest, ok := strings.CutPrefix(header, "vapid t=")
	require.True(t, ok, header)
	token, key, ok := strings.Cut(rest, ", k=")
	require.True(t, ok, header)
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := decodeKey(key)
	require.NoError(t, err)
	pub, err := ecdsa.ParseUncompressedPublicKey(ecdsaCurve(), raw)
	require.NoError(t, err)
	sig := unb64(t, parts[2])
	require.Len(t, sig, 64)
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	require.True(t, ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])), "signature verifies")
	require.NoError(t, json.Unmarshal(unb64(t, parts[1]), &claims))
	return parts[0], claims
}

func TestSignVAPIDMatchesWebpushGo(t *testing.T) {
	for _, contact := range []string{"mailto:ops@shop.example", "https://shop.example/contact"} {
		keys := testVAPIDKeys(t, contact)
		c := &capture{}
		resp, err := webpush.SendNotification([]byte("{}"), &webpush.Subscription{
			Endpoint: "https://push.example:8443/p/1",
			Keys:     webpush.Keys{P256dh: b64.EncodeToString(mustPoint(t)), Auth: "AAAAAAAAAAAAAAAAAAAAAA"},
		}, &webpush.Options{HTTPClient: c, Subscriber: keys.subscriber(), TTL: 1, VAPIDPublicKey: keys.Public, VAPIDPrivateKey: keys.Private})
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		stockHead, stockClaims := splitVAPID(t, c.req.Header.Get("Authorization"))

		ours, err := signVAPID(keys, "https://push.example:8443", time.Now().Add(12*time.Hour))
		require.NoError(t, err)
		head, claims := splitVAPID(t, ours)
		require.Equal(t, stockHead, head, "same JOSE header")
		require.InDelta(t, stockClaims["exp"], claims["exp"], 2)
		delete(stockClaims, "exp")
		delete(claims, "exp")
		require.Equal(t, stockClaims, claims, "same aud and sub")
		require.Equal(t, contact, claims["sub"])
	}
}

func TestJWTCacheSignsOncePerOriginForHours(t *testing.T) {
	c := newJWTCache()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	keys := testVAPIDKeys(t, "mailto:ops@shop.example")
	a1, err := c.authorization("site", keys, "https://fcm.example/send/1")
	require.NoError(t, err)
	a2, err := c.authorization("site", keys, "https://fcm.example/send/2")
	require.NoError(t, err)
	require.Equal(t, a1, a2, "same origin: the token is reused")
	b, err := c.authorization("site", keys, "https://updates.push.example/wpush/3")
	require.NoError(t, err)
	require.NotEqual(t, a1, b)
	_, claims := splitVAPID(t, b)
	require.Equal(t, "https://updates.push.example", claims["aud"])
	require.InDelta(t, float64(now.Add(12*time.Hour).Unix()), claims["exp"], 0)

	now = now.Add(jwtReuse - time.Second)
	a3, _ := c.authorization("site", keys, "https://fcm.example/send/1")
	require.Equal(t, a1, a3)
	now = now.Add(2 * time.Second)
	a4, _ := c.authorization("site", keys, "https://fcm.example/send/1")
	require.NotEqual(t, a1, a4, "re-signed after jwtReuse, long before the 12 h expiry")

	rotated := testVAPIDKeys(t, keys.Contact)
	a5, _ := c.authorization("site", rotated, "https://fcm.example/send/1")
	require.Contains(t, a5, "k="+rotated.Public, "a new key signs afresh")
}

func mustPoint(t *testing.T) []byte {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(nil)
	require.NoError(t, err)
	return k.PublicKey().Bytes()
}

func ecdsaCurve() elliptic.Curve { return elliptic.P256() }
