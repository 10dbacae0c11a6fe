package sender

import (
	"crypto/ecdh"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/pushservice"
)

var b64 = base64.RawURLEncoding

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	require.NoError(t, err)
	return b
}

// RFC 8291 Appendix A: sealing the example's plaintext with its secret,
// keys and salt gives the published body.
func TestSealReproducesTheRFC8291Example(t *testing.T) {
	const plaintext = "When I grow up, I want to be a watermelon"
	body, err := sealWithSecret([]byte(plaintext),
		unb64(t, "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"),
		unb64(t, "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
		unb64(t, "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"),
		unb64(t, "BTBZMqHH6r4Tts7J_aSIgg"), unb64(t, "DGv6ra1nlYgDCS1FRnbzlw"), 4096, len(plaintext)+1)
	require.NoError(t, err)
	require.Equal(t, "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"+
		"mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"+
		"pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN", b64.EncodeToString(body))
}

// capture is a webpush.HTTPClient that keeps the request instead of sending it.
type capture struct{ req *http.Request }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.req = r
	return &http.Response{StatusCode: 201, Body: http.NoBody, Header: http.Header{}}, nil
}

// webpush-go's bodies, re-sealed by encrypt's deterministic part with the
// same salt and ephemeral key (recovered through the browser's side of the
// ECDH), come out byte for byte the same; and encrypt's own bodies open.
func TestEncryptAgreesWithWebpushGo(t *testing.T) {
	ua, err := ecdh.P256().GenerateKey(nil)
	require.NoError(t, err)
	auth := []byte("0123456789abcdef")
	sub := &webpush.Subscription{Endpoint: "https://push.example/p/1", Keys: webpush.Keys{
		P256dh: b64.EncodeToString(ua.PublicKey().Bytes()), Auth: b64.EncodeToString(auth),
	}}
	priv, pub, err := webpush.GenerateVAPIDKeys()
	require.NoError(t, err)
	payload := []byte(`{"title":"Sale","body":"50% off","push_id":"r1"}`)
	for _, rs := range []int{Config{}.recordSize(len(payload)), 1024, 4096} {
		c := &capture{}
		resp, err := webpush.SendNotification(payload, sub, &webpush.Options{
			HTTPClient: c, RecordSize: uint32(rs), Subscriber: "ops@shop.example", TTL: 60, //nolint:gosec // small
			VAPIDPublicKey: pub, VAPIDPrivateKey: priv,
		})
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		stock := readAll(t, c.req)
		require.Len(t, stock, rs, "webpush-go's body is exactly RecordSize bytes")

		salt, asPub := stock[:saltLen], stock[saltLen+5:headerLen]
		as, err := ecdh.P256().NewPublicKey(asPub)
		require.NoError(t, err)
		secret, err := ua.ECDH(as)
		require.NoError(t, err)
		ours, err := sealWithSecret(payload, secret, ua.PublicKey().Bytes(), asPub, auth, salt, uint32(rs), rs-headerLen-tagLen) //nolint:gosec // small
		require.NoError(t, err)
		require.Equal(t, stock, ours, "record size %d", rs)

		fresh, err := encrypt(payload, sub.Keys.P256dh, sub.Keys.Auth, rs)
		require.NoError(t, err)
		require.Len(t, fresh, rs)
		opened, err := pushservice.Decrypt(fresh, ua, auth)
		require.NoError(t, err)
		require.Equal(t, payload, opened.Plaintext)
		require.Equal(t, uint32(rs), opened.RecordSize) //nolint:gosec // small
	}
}

func TestEncryptRefusesBadKeys(t *testing.T) {
	_, err := encrypt([]byte("x"), "not*base64", "AAAAAAAAAAAAAAAAAAAAAA", 200)
	require.ErrorIs(t, err, ErrSubscriptionKeys)
	_, err = encrypt([]byte("x"), b64.EncodeToString(make([]byte, 65)), "AAAAAAAAAAAAAAAAAAAAAA", 200)
	require.ErrorIs(t, err, ErrSubscriptionKeys, "not a point on the curve")
}

func readAll(t *testing.T, r *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return b
}
