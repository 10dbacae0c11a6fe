package pushservice

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the aes128gcm content coding (RFC 8188) as Web Push uses it (RFC 8291).
const (
	saltLen      = 16
	headerFixed  = saltLen + 4 + 1 // salt, rs, idlen
	p256PointLen = 65              // uncompressed P-256 point: the application server's public key
	tagLen       = 16
	minRecord    = tagLen + 2 // RFC 8188 §2: rs smaller than 18 is invalid
)

// Errors of Decrypt; wrapped with detail, compare with errors.Is.
var (
	ErrHeader    = errors.New("invalid aes128gcm header")
	ErrDecrypt   = errors.New("record does not decrypt (wrong keys, or altered)")
	ErrPadding   = errors.New("invalid record padding")
	ErrTruncated = errors.New("message truncated: last record has no 0x02 delimiter")
)

// Decrypted is a push message body opened as the user agent does.
type Decrypted struct {
	Plaintext       []byte
	RecordSize      uint32 // the rs the sender chose
	Records         int
	SenderPublicKey []byte // as_public from the keyid field, 65 bytes
}

// keys are the values RFC 8291 §3.3-3.4 and RFC 8188 §2.2-2.3 derive.
type keys struct {
	ecdhSecret, ikm, cek, nonce []byte
}

// Decrypt opens an aes128gcm body (RFC 8188) encrypted for the user agent
// key ua with the authentication secret auth (RFC 8291), the way a browser
// does: any record size, padding removed, every record's delimiter checked.
func Decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) (Decrypted, error) {
	var d Decrypted
	if len(body) < headerFixed {
		return d, fmt.Errorf("%w: %d bytes, shorter than the 21-byte header", ErrHeader, len(body))
	}
	salt := body[:saltLen]
	d.RecordSize = binary.BigEndian.Uint32(body[saltLen:])
	idlen := int(body[saltLen+4])
	if d.RecordSize < minRecord {
		return d, fmt.Errorf("%w: record size %d below %d", ErrHeader, d.RecordSize, minRecord)
	}
	if idlen != p256PointLen || len(body) < headerFixed+idlen {
		return d, fmt.Errorf("%w: keyid of %d bytes, want the 65-byte sender public key", ErrHeader, idlen)
	}
	d.SenderPublicKey = body[headerFixed : headerFixed+idlen]
	k, err := deriveKeys(ua, auth, salt, d.SenderPublicKey)
	if err != nil {
		return d, err
	}
	d.Plaintext, d.Records, err = openRecords(k, body[headerFixed+idlen:], int(d.RecordSize))
	return d, err
}

// deriveKeys computes the shared secret, IKM, content encryption key and
// nonce from the user agent's private key and the sender's public key.
func deriveKeys(ua *ecdh.PrivateKey, auth, salt, asPublic []byte) (keys, error) {
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return keys{}, fmt.Errorf("%w: sender public key: %w", ErrHeader, err)
	}
	secret, err := ua.ECDH(as)
	if err != nil {
		return keys{}, fmt.Errorf("compute ECDH secret: %w", err)
	}
	return deriveFromSecret(secret, ua.PublicKey().Bytes(), asPublic, auth, salt)
}

// deriveFromSecret is RFC 8291 §3.3-3.4 from the ECDH secret on: the same
// for both sides.
func deriveFromSecret(secret, uaPublic, asPublic, auth, salt []byte) (keys, error) {
	k := keys{ecdhSecret: secret}
	prkKey, err := hkdf.Extract(sha256.New, secret, auth)
	if err != nil {
		return k, fmt.Errorf("extract PRK_key: %w", err)
	}
	keyInfo := "WebPush: info\x00" + string(uaPublic) + string(asPublic)
	if k.ikm, err = hkdf.Expand(sha256.New, prkKey, keyInfo, 32); err != nil {
		return k, fmt.Errorf("expand IKM: %w", err)
	}
	ck, err := contentKeys(k.ikm, salt)
	k.cek, k.nonce = ck.cek, ck.nonce
	return k, err
}

// contentKeys derives the content encryption key and base nonce of
// aes128gcm from the input keying material and salt (RFC 8188 §2.2-2.3).
func contentKeys(ikm, salt []byte) (keys, error) {
	var k keys
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return k, fmt.Errorf("extract PRK: %w", err)
	}
	if k.cek, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return k, fmt.Errorf("expand CEK: %w", err)
	}
	if k.nonce, err = hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12); err != nil {
		return k, fmt.Errorf("expand nonce: %w", err)
	}
	return k, nil
}

// openRecords decrypts the records that follow the header: each is rs
// bytes of ciphertext except the last, which may be shorter.
func openRecords(k keys, ciphertext []byte, rs int) ([]byte, int, error) {
	block, err := aes.NewCipher(k.cek)
	if err != nil {
		return nil, 0, fmt.Errorf("create AES cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, 0, fmt.Errorf("create GCM: %w", err)
	}
	if len(ciphertext) == 0 {
		return nil, 0, ErrTruncated
	}
	var plain []byte
	seq := 0
	for len(ciphertext) > 0 {
		n := min(rs, len(ciphertext))
		last := n == len(ciphertext)
		rec, err := gcm.Open(nil, recordNonce(k.nonce, seq), ciphertext[:n], nil)
		if err != nil {
			return nil, seq, fmt.Errorf("%w: record %d", ErrDecrypt, seq)
		}
		data, err := unpad(rec, last)
		if err != nil {
			return nil, seq, fmt.Errorf("record %d: %w", seq, err)
		}
		plain = append(plain, data...)
		ciphertext = ciphertext[n:]
		seq++
	}
	return plain, seq, nil
}

// recordNonce is the base nonce XOR the record's sequence number (RFC 8188 §2.3).
func recordNonce(base []byte, seq int) []byte {
	n := append([]byte(nil), base...)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], uint64(seq))
	for i := range s {
		n[len(n)-8+i] ^= s[i]
	}
	return n
}

// unpad strips the zero padding and the delimiter: 0x02 ends the last
// record, 0x01 every other (RFC 8188 §2).
func unpad(rec []byte, last bool) ([]byte, error) {
	i := len(rec) - 1
	for i >= 0 && rec[i] == 0 {
		i--
	}
	switch {
	case i < 0:
		return nil, fmt.Errorf("%w: no delimiter", ErrPadding)
	case last && rec[i] == 0x01:
		return nil, ErrTruncated
	case last && rec[i] != 0x02, !last && rec[i] != 0x01:
		return nil, fmt.Errorf("%w: delimiter 0x%02x", ErrPadding, rec[i])
	}
	return rec[:i], nil
}
