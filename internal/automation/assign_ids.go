package automation

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// namespace is the fixed UUID namespace of push-request ids (a random v4,
// chosen once; changing it would re-send everything pending).
var namespace = uuid.UUID{0x6b, 0x1f, 0x3c, 0x52, 0x9e, 0x0a, 0x4d, 0x7b, 0x8c, 0x21, 0x5f, 0x44, 0xa3, 0x90, 0x1e, 0x67}

// RequestID is the push-request id of an automation step for a subscriber,
// started by one trigger event: the same inputs give the same id, so a
// retried or replayed trigger never sends twice (the sender and the
// scheduled_sends table dedup on it). A version-5 (SHA-1 name-based) UUID.
func RequestID(automationID string, step int, subscriberID, triggerEventID string) string {
	return nameUUID("automation", automationID, strconv.Itoa(step), subscriberID, triggerEventID)
}

// CampaignRequestID is the push-request id of a campaign variant for a
// subscriber.
func CampaignRequestID(campaignID, variant, subscriberID string) string {
	return nameUUID("campaign", campaignID, variant, subscriberID)
}

// nameUUID joins the parts length-prefixed, so no two part lists share a name.
func nameUUID(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return uuid.NewSHA1(namespace, []byte(b.String())).String()
}

// bucket maps the parts to a stable number in [0, n).
func bucket(n uint64, parts ...string) uint64 {
	h := sha256.New()
	for _, p := range parts {
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(p)))
		h.Write(l[:])
		h.Write([]byte(p))
	}
	return binary.BigEndian.Uint64(h.Sum(nil)[:8]) % n
}

// holdoutScale is the resolution of holdout percentages: 1/10000 of a percent.
const holdoutScale = 1_000_000

// InHoldout reports whether the subscriber is held out of the automation or
// campaign subjectID (never sent, to measure lift), for a holdout of pct
// percent. The choice is stable: a subscriber stays in or out for good as
// long as pct does not change, and raising pct only adds members.
func InHoldout(subjectID, subscriberID string, pct float64) bool {
	if !(pct > 0) {
		return false
	}
	return float64(bucket(holdoutScale, "holdout", subjectID, subscriberID)) < pct*holdoutScale/100
}

// PickVariant returns the index of the variant the subscriber gets in the
// campaign, split by the variants' weights (all zero: evenly), stable per
// subscriber. It returns -1 for no variants.
func PickVariant(campaignID, subscriberID string, variants []Variant) int {
	if len(variants) == 0 {
		return -1
	}
	total := 0
	for _, v := range variants {
		total += max(v.Weight, 0)
	}
	if total == 0 {
		return int(bucket(uint64(len(variants)), "variant", campaignID, subscriberID))
	}
	b := int(bucket(uint64(total), "variant", campaignID, subscriberID))
	for i, v := range variants {
		b -= max(v.Weight, 0)
		if b < 0 {
			return i
		}
	}
	return len(variants) - 1
}
