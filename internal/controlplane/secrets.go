package controlplane

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// MasterKey seals secrets at rest with AES-256-GCM.
type MasterKey struct{ aead cipher.AEAD }

// ErrMasterKey means the configured master key is unusable.
var ErrMasterKey = errors.New("master key must be 32 bytes, base64-encoded (generate one: head -c32 /dev/urandom | base64)")

// ParseMasterKey decodes a base64 (standard or URL) 32-byte key.
func ParseMasterKey(s string) (*MasterKey, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil || len(raw) != 32 {
		return nil, ErrMasterKey
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &MasterKey{aead: aead}, nil
}

// Seal encrypts plain; aad binds the ciphertext to its owner (a site id).
func (k *MasterKey) Seal(plain, aad []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plain, aad)
}

// Open decrypts what Seal produced with the same aad.
func (k *MasterKey) Open(sealed, aad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("open sealed secret: too short")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("open sealed secret (wrong master key?): %w", err)
	}
	return plain, nil
}

// VAPIDKeys is a P-256 key pair in the encodings Web Push uses (RFC 8292):
// the public key as an uncompressed point, the private key as the raw scalar,
// both base64url without padding.
type VAPIDKeys struct {
	Public  string
	Private string
}

// NewVAPIDKeys generates a fresh P-256 key pair.
func NewVAPIDKeys() (VAPIDKeys, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return VAPIDKeys{}, fmt.Errorf("generate vapid key: %w", err)
	}
	return VAPIDKeys{
		Public:  base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Private: base64.RawURLEncoding.EncodeToString(priv.Bytes()),
	}, nil
}

// randomToken returns prefix + 32 random bytes in base64url.
func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashAPIKey is how API keys are stored and looked up. A plain SHA-256 is
// enough: keys carry 256 random bits, so there is nothing to brute-force.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}
