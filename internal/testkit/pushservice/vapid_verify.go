package pushservice

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// maxExpiry is how far ahead a VAPID token may expire (RFC 8292 §2).
const maxExpiry = 24 * time.Hour

// Claims are the VAPID token's claims and the key that signed it.
type Claims struct {
	Aud string    `json:"aud"`
	Sub string    `json:"sub"`
	Exp time.Time `json:"exp"`
	Key string    `json:"k"` // the k= parameter: base64url of the signer's public key
}

// refusal is a request the service turns down: the status and why.
type refusal struct {
	status int
	reason string
}

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, reason: fmt.Sprintf(format, args...)}
}

// verifyVAPID checks an Authorization header per RFC 8292: "vapid t=JWT,
// k=KEY", an ES256 signature by KEY, aud equal to origin, exp in the future
// and at most 24 h ahead of now, sub a mailto: address or an https: URL, and
// KEY equal to bound when the subscription is bound to a key.
func verifyVAPID(header, origin string, now time.Time, bound []byte) (Claims, *refusal) {
	var c Claims
	token, key, ref := parseVAPIDHeader(header)
	if ref != nil {
		return c, ref
	}
	c.Key = key
	raw, err := decodeKey(key)
	if err != nil {
		return c, refuse(http.StatusUnauthorized, "k= is not base64url: %v", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return c, refuse(http.StatusUnauthorized, "k= is not a P-256 public key: %v", err)
	}
	if bound != nil && !bytes.Equal(raw, bound) {
		return c, refuse(http.StatusForbidden, "k= is not the application server key the subscription is bound to")
	}
	payload, ref := verifyJWT(token, pub)
	if ref != nil {
		return c, ref
	}
	if ref := readClaims(payload, &c); ref != nil {
		return c, ref
	}
	return c, checkClaims(c, origin, now)
}

// parseVAPIDHeader splits "vapid t=..., k=..." into the token and the key.
func parseVAPIDHeader(header string) (token, key string, ref *refusal) {
	if header == "" {
		return "", "", refuse(http.StatusUnauthorized, "missing Authorization header")
	}
	scheme, params, _ := strings.Cut(strings.TrimSpace(header), " ")
	if !strings.EqualFold(scheme, "vapid") {
		return "", "", refuse(http.StatusUnauthorized, "Authorization scheme %q is not vapid (RFC 8292)", scheme)
	}
	for p := range strings.SplitSeq(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "t":
			token = value
		case "k":
			key = value
		}
	}
	switch {
	case token == "":
		return "", "", refuse(http.StatusUnauthorized, "Authorization has no t= token")
	case key == "":
		return "", "", refuse(http.StatusUnauthorized, "Authorization has no k= key")
	}
	return token, key, nil
}

// verifyJWT checks a JWS compact token signed with ES256 by pub and
// returns its decoded payload.
func verifyJWT(token string, pub *ecdsa.PublicKey) ([]byte, *refusal) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, refuse(http.StatusUnauthorized, "JWT has %d parts, want 3", len(parts))
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, refuse(http.StatusUnauthorized, "JWT header: %v", err)
	}
	if hdr.Alg != "ES256" {
		return nil, refuse(http.StatusUnauthorized, "JWT alg is %q, want ES256", hdr.Alg)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, refuse(http.StatusUnauthorized, "JWT signature is not 64 bytes of base64url (r||s)")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return nil, refuse(http.StatusUnauthorized, "JWT signature does not verify with the k= key")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, refuse(http.StatusUnauthorized, "JWT payload is not base64url: %v", err)
	}
	return payload, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("decode base64url: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode JSON: %w", err)
	}
	return nil
}

// readClaims decodes aud, sub and exp, which must be present and typed as
// RFC 7519 says (aud a string here, as VAPID names one push service).
func readClaims(payload []byte, c *Claims) *refusal {
	var raw struct {
		Aud any          `json:"aud"`
		Sub any          `json:"sub"`
		Exp *json.Number `json:"exp"`
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return refuse(http.StatusUnauthorized, "JWT claims are not a JSON object: %v", err)
	}
	aud, ok := raw.Aud.(string)
	if !ok {
		return refuse(http.StatusUnauthorized, "JWT aud is missing or not a string")
	}
	sub, ok := raw.Sub.(string)
	if raw.Sub != nil && !ok {
		return refuse(http.StatusUnauthorized, "JWT sub is not a string")
	}
	if raw.Exp == nil {
		return refuse(http.StatusUnauthorized, "JWT has no exp")
	}
	exp, err := raw.Exp.Float64()
	if err != nil {
		return refuse(http.StatusUnauthorized, "JWT exp is not a number")
	}
	c.Aud, c.Sub, c.Exp = aud, sub, time.Unix(int64(exp), 0)
	return nil
}

// checkClaims applies RFC 8292 §2 to decoded claims.
func checkClaims(c Claims, origin string, now time.Time) *refusal {
	switch {
	case c.Aud != origin:
		return refuse(http.StatusUnauthorized, "JWT aud %q is not the push service origin %q", c.Aud, origin)
	case !c.Exp.After(now):
		return refuse(http.StatusUnauthorized, "JWT exp %s has passed", c.Exp.UTC().Format(time.RFC3339))
	case c.Exp.Sub(now) > maxExpiry:
		return refuse(http.StatusUnauthorized, "JWT exp %s is more than 24h ahead", c.Exp.UTC().Format(time.RFC3339))
	case !validSub(c.Sub):
		return refuse(http.StatusUnauthorized, "JWT sub %q is neither mailto:ADDRESS nor an https: URL", c.Sub)
	}
	return nil
}

// validSub accepts a mailto: URI with one plain address, or an https: URL
// with a host: the contact RFC 8292 §2.1 asks for.
func validSub(sub string) bool {
	if addr, ok := strings.CutPrefix(sub, "mailto:"); ok {
		a, err := mail.ParseAddress(addr)
		return err == nil && a.Name == "" && a.Address == addr
	}
	u, err := url.Parse(sub)
	return err == nil && u.Scheme == "https" && u.Host != ""
}
