package sender

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ErrSubscriptionKeys means a subscription's p256dh or auth does not decode.
var ErrSubscriptionKeys = errors.New("invalid subscription keys")

const (
	saltLen  = 16
	pointLen = 65 // uncompressed P-256 point
	tagLen   = 16
	// headerLen is the aes128gcm header Web Push uses: salt, rs, idlen, the
	// application server's ephemeral public key (RFC 8291 §4).
	headerLen = saltLen + 4 + 1 + pointLen
)

// encrypt seals payload for a subscription as webpush-go does (RFC 8291,
// one aes128gcm record): a fresh ephemeral key and salt per message, rs =
// bodySize, the payload followed by the 0x02 delimiter and zeros so the body
// is bodySize bytes. bodySize must be at least len(payload)+103.
func encrypt(payload []byte, p256dh, auth string, bodySize int) ([]byte, error) {
	uaRaw, err1 := decodeKey(p256dh)
	authKey, err2 := decodeKey(auth)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSubscriptionKeys, err)
	}
	ua, err := ecdh.P256().NewPublicKey(uaRaw)
	if err != nil {
		return nil, fmt.Errorf("%w: p256dh: %w", ErrSubscriptionKeys, err)
	}
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ephemeral key: %w", err)
	}
	secret, err := as.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("%w: ecdh: %w", ErrSubscriptionKeys, err)
	}
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)                                                                                                            // never fails (crypto/rand documentation)
	return sealWithSecret(payload, secret, uaRaw, as.PublicKey().Bytes(), authKey, salt, uint32(bodySize), bodySize-headerLen-tagLen) //nolint:gosec // bodySize <= MaxBody
}

// sealWithSecret is the deterministic part of encrypt: given the ECDH
// secret, both public keys, auth and salt, it writes the header with record
// size rs and one record of the payload, its delimiter and zero padding up
// to recordPlain bytes of plaintext (RFC 8291 §3.3-3.4, RFC 8188 §2).
func sealWithSecret(payload, secret, uaPublic, asPublic, auth, salt []byte, rs uint32, recordPlain int) ([]byte, error) {
	if recordPlain < len(payload)+1 {
		return nil, fmt.Errorf("%w: %d bytes do not fit a record of %d", ErrTooLarge, len(payload), recordPlain)
	}
	info := make([]byte, 0, 14+2*pointLen)
	info = append(append(append(info, "WebPush: info\x00"...), uaPublic...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(info), 32)
	if err != nil {
		return nil, fmt.Errorf("derive ikm: %w", err)
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, fmt.Errorf("derive prk: %w", err)
	}
	cek, err1 := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, err2 := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("derive content keys: %w", err)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("content cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("content cipher: %w", err)
	}
	body := make([]byte, headerLen, headerLen+recordPlain+tagLen)
	copy(body, salt)
	binary.BigEndian.PutUint32(body[saltLen:], rs)
	body[saltLen+4] = pointLen
	copy(body[saltLen+5:], asPublic)
	plain := body[headerLen : headerLen+recordPlain]
	n := copy(plain, payload)
	plain[n] = 0x02
	clear(plain[n+1:])
	return gcm.Seal(body[:headerLen], nonce, plain, nil), nil
}

// decodeKey reads a subscription key as browsers and webpush-go accept it:
// base64url or standard base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	return b, nil
}
