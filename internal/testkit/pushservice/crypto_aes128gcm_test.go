package pushservice

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// RFC 8291 §5 and Appendix A: the worked example, every value as published.
var rfc = struct {
	plaintext, asPublic, asPrivate, uaPublic, uaPrivate, salt, auth string
	ecdhSecret, ikm, cek, nonce, body                               string
}{
	plaintext:  "When I grow up, I want to be a watermelon",
	asPublic:   "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
	asPrivate:  "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
	uaPublic:   "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
	uaPrivate:  "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
	salt:       "DGv6ra1nlYgDCS1FRnbzlw",
	auth:       "BTBZMqHH6r4Tts7J_aSIgg",
	ecdhSecret: "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs",
	ikm:        "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg",
	cek:        "oIhVW04MRdy2XN9CiKLxTg",
	nonce:      "4h_95klXJ5E_qnoN",
	body: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" +
		"mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT" +
		"pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	require.NoError(t, err)
	return b
}

func p256Key(t testing.TB, private string) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.P256().NewPrivateKey(unb64(t, private))
	require.NoError(t, err)
	return k
}

func TestDecryptOpensTheRFC8291WorkedExample(t *testing.T) {
	ua := p256Key(t, rfc.uaPrivate)
	require.Equal(t, rfc.uaPublic, b64.EncodeToString(ua.PublicKey().Bytes()))

	msg, err := Decrypt(unb64(t, rfc.body), ua, unb64(t, rfc.auth))
	require.NoError(t, err)
	require.Equal(t, rfc.plaintext, string(msg.Plaintext))
	require.Equal(t, uint32(4096), msg.RecordSize)
	require.Equal(t, 1, msg.Records)
	require.Equal(t, rfc.asPublic, b64.EncodeToString(msg.SenderPublicKey))
}

func TestDeriveKeysGivesTheRFC8291IntermediateValues(t *testing.T) {
	k, err := deriveKeys(p256Key(t, rfc.uaPrivate), unb64(t, rfc.auth), unb64(t, rfc.salt), unb64(t, rfc.asPublic))
	require.NoError(t, err)
	require.Equal(t, rfc.ecdhSecret, b64.EncodeToString(k.ecdhSecret))
	require.Equal(t, rfc.ikm, b64.EncodeToString(k.ikm))
	require.Equal(t, rfc.cek, b64.EncodeToString(k.cek))
	require.Equal(t, rfc.nonce, b64.EncodeToString(k.nonce))
}

func TestOpenRecordsOpensTheRFC8188MultiRecordExample(t *testing.T) {
	// RFC 8188 §3.2: rs 25, keyid "a1", two records, the first padded.
	body := unb64(t, "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA")
	require.Equal(t, []byte{0, 0, 0, 25, 2, 'a', '1'}, body[saltLen:saltLen+7])
	k, err := contentKeys(unb64(t, "BO3ZVPxUlnLORbVGMpbT1Q"), body[:saltLen])
	require.NoError(t, err)
	plain, records, err := openRecords(k, body[saltLen+7:], 25)
	require.NoError(t, err)
	require.Equal(t, "I am the walrus", string(plain))
	require.Equal(t, 2, records)
}

// sealRecords is the sender's side of RFC 8188/8291, for tests: it encrypts
// records that already carry their delimiter and padding.
func sealRecords(t testing.TB, as *ecdh.PrivateKey, salt []byte, ua *ecdh.PublicKey, auth []byte, rs int, records [][]byte) []byte {
	t.Helper()
	// The receiver's derivation from the sender's side: ECDH is symmetric.
	k, err := deriveKeysFor(as, ua, auth, salt)
	require.NoError(t, err)
	block, err := aes.NewCipher(k.cek)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	out := append([]byte(nil), salt...)
	out = binary.BigEndian.AppendUint32(out, uint32(rs))
	out = append(out, byte(p256PointLen))
	out = append(out, as.PublicKey().Bytes()...)
	for i, rec := range records {
		out = gcm.Seal(out, recordNonce(k.nonce, i), rec, nil)
	}
	return out
}

// deriveKeysFor mirrors deriveKeys with the sender's private key.
func deriveKeysFor(as *ecdh.PrivateKey, ua *ecdh.PublicKey, auth, salt []byte) (keys, error) {
	secret, err := as.ECDH(ua)
	if err != nil {
		return keys{}, err
	}
	return deriveFromSecret(secret, ua.Bytes(), as.PublicKey().Bytes(), auth, salt)
}

// encryptMessage splits pt into records of rs bytes and pads the last one
// with pad zero bytes, as a sender may choose.
func encryptMessage(t testing.TB, ua *ecdh.PublicKey, auth, pt []byte, rs, pad int) []byte {
	t.Helper()
	data := rs - tagLen - 1 // plaintext bytes per record
	var recs [][]byte
	for len(pt) > data {
		recs = append(recs, append(append([]byte(nil), pt[:data]...), 0x01))
		pt = pt[data:]
	}
	last := append(append([]byte(nil), pt...), 0x02)
	last = append(last, make([]byte, min(pad, rs-tagLen-len(last)))...)
	recs = append(recs, last)
	return sealRecords(t, newP256Key(), randomBytes(saltLen), ua, auth, rs, recs)
}

func TestSealRecordsReproducesTheRFC8291Body(t *testing.T) {
	// Guards the test encryptor that the other tests rely on.
	body := sealRecords(t, p256Key(t, rfc.asPrivate), unb64(t, rfc.salt), p256Key(t, rfc.uaPrivate).PublicKey(),
		unb64(t, rfc.auth), 4096, [][]byte{append([]byte(rfc.plaintext), 0x02)})
	require.Equal(t, rfc.body, b64.EncodeToString(body))
}

func TestDecryptHandlesAnyRecordSizeAndPadding(t *testing.T) {
	ua := newP256Key()
	auth := randomBytes(16)
	for _, rs := range []int{18, 19, 64, 1000, 4096, 1 << 20} {
		for _, n := range []int{0, 1, 41, 500, 3000} {
			for _, pad := range []int{0, 7, 200} {
				t.Run(fmt.Sprintf("rs=%d/len=%d/pad=%d", rs, n, pad), func(t *testing.T) {
					pt := randomBytes(n)
					msg, err := Decrypt(encryptMessage(t, ua.PublicKey(), auth, pt, rs, pad), ua, auth)
					require.NoError(t, err)
					require.Equal(t, pt, append([]byte{}, msg.Plaintext...))
					require.Equal(t, uint32(rs), msg.RecordSize)
					data := rs - tagLen - 1
					require.Equal(t, max(1, (n+data-1)/data), msg.Records)
				})
			}
		}
	}
}

func TestDecryptRefusesBrokenMessages(t *testing.T) {
	ua, as, auth, salt := newP256Key(), newP256Key(), randomBytes(16), randomBytes(saltLen)
	seal := func(recs ...[]byte) []byte { return sealRecords(t, as, salt, ua.PublicKey(), auth, 20, recs) }
	good := seal([]byte("abc\x01"), []byte("de\x02"))
	msg, err := Decrypt(good, ua, auth)
	require.NoError(t, err)
	require.Equal(t, "abcde", string(msg.Plaintext))

	edit := func(i int, b byte) []byte {
		out := append([]byte(nil), good...)
		out[i] = b
		return out
	}
	header := headerFixed + p256PointLen
	tests := []struct {
		name string
		body []byte
		auth []byte
		want error
	}{
		{"shorter than the header", good[:20], auth, ErrHeader},
		{"record size below 18", edit(saltLen+3, 17), auth, ErrHeader},
		{"keyid not a 65-byte key", edit(saltLen+4, 64), auth, ErrHeader},
		{"sender key not on the curve", edit(headerFixed+10, good[headerFixed+10]^0xff), auth, ErrHeader},
		{"no records", good[:header], auth, ErrTruncated},
		{"last record dropped", good[:header+20], auth, ErrTruncated},
		{"ciphertext altered", edit(header+3, good[header+3]^1), auth, ErrDecrypt},
		{"wrong auth secret", good, randomBytes(16), ErrDecrypt},
		{"last record ends 0x01", seal([]byte("abc\x01"), []byte("de\x01")), auth, ErrTruncated},
		{"inner record ends 0x02", seal([]byte("abc\x02"), []byte("de\x02")), auth, ErrPadding},
		{"record without delimiter", seal([]byte{0, 0}), auth, ErrPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decrypt(tt.body, ua, tt.auth)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func FuzzDecrypt(f *testing.F) {
	ua := p256Key(f, rfc.uaPrivate)
	auth := unb64(f, rfc.auth)
	f.Add(unb64(f, rfc.body))
	f.Add(encryptMessage(f, ua.PublicKey(), auth, []byte("two records"), 20, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := Decrypt(body, ua, auth)
		if err == nil {
			require.LessOrEqual(t, len(msg.Plaintext), len(body))
		}
	})
}
