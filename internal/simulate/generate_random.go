package simulate

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// rnd is the generator's single source of randomness: every choice goes
// through it in a fixed order, so a seed reproduces the whole run.
type rnd struct{ *rand.Rand }

func newRnd(seed int64) rnd {
	return rnd{rand.New(rand.NewPCG(uint64(seed), 0x70757368706970))}
}

// chance reports true with probability p.
func (r rnd) chance(p float64) bool { return r.Float64() < p }

// pick returns a value chosen by weight.
func (r rnd) pick(ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

// count returns 1 + a geometric number with the given mean, at most limit.
func (r rnd) count(mean float64, limit int) int {
	n := 1
	p := 1 - 1/mean
	for n < limit && r.chance(p) {
		n++
	}
	return n
}

// between returns a duration uniformly in [lo, hi).
func (r rnd) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// exp returns an exponentially distributed duration with the given mean.
func (r rnd) exp(mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}

// bytes returns n random bytes.
func (r rnd) bytes(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// token returns n random bytes in base64url without padding.
func (r rnd) token(n int) string {
	return b64(r.bytes(n))
}

// b64 is how the Push API serialises subscription keys: base64url, no padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// uuidV4 is what a browser's crypto.randomUUID() returns.
func (r rnd) uuidV4() string {
	var u uuid.UUID
	copy(u[:], r.bytes(16))
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// uuidV7 is an RFC 9562 version 7 id for an event that happened at t, as the
// SDK generates it: 48 bits of Unix milliseconds, then random bits.
func (r rnd) uuidV7(t time.Time) string { return r.uuidV7FromMillis(t.UnixMilli()) }

func (r rnd) uuidV7FromMillis(millis int64) string {
	var u uuid.UUID
	copy(u[6:], r.bytes(10))
	ms := uint64(millis)
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// money rounds to cents.
func money(v float64) float64 { return math.Round(v*100) / 100 }
