package schemas

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Urgency values of a push request (RFC 8030 §5.3).
const (
	UrgencyVeryLow = "very-low"
	UrgencyLow     = "low"
	UrgencyNormal  = "normal"
	UrgencyHigh    = "high"
)

// MaxPushTTL is the longest TTL a push request may ask for: 28 days, what
// the major push services keep a message at most.
const MaxPushTTL = 28 * 24 * time.Hour

// PushSubscription is the part of a browser's PushSubscription the sender
// needs: where to post and the keys to encrypt for (base64url, with or
// without padding, as the browser's getKey() gives them).
type PushSubscription struct {
	Endpoint string `json:"endpoint"`
	P256dh   string `json:"p256dh"`
	Auth     string `json:"auth"`
}

// PushRequest (version 1) is one notification to deliver to one
// subscription: the message of TopicPushRequests, JSON-encoded, keyed by Key.
type PushRequest struct {
	RequestID    string           `json:"request_id"` // unique per delivery: the idempotency key, push_id of the result events
	SiteID       string           `json:"site_id"`    // uuid of the site whose VAPID key signs the push
	SubscriberID string           `json:"subscriber_id"`
	Subscription PushSubscription `json:"subscription"`
	// Payload is the notification JSON the service worker shows (ingest/sdk/README.md).
	Payload      json.RawMessage `json:"payload"`
	TTLSeconds   int             `json:"ttl_seconds"` // how long the push service keeps it for an offline browser
	Urgency      string          `json:"urgency,omitempty"`
	Topic        string          `json:"topic,omitempty"` // replaces a pending push with the same topic
	CampaignID   string          `json:"campaign_id,omitempty"`
	AutomationID string          `json:"automation_id,omitempty"`
	StepID       string          `json:"step_id,omitempty"`
	Variant      string          `json:"variant,omitempty"`  // campaign A/B variant name
	NotAfter     time.Time       `json:"not_after,omitzero"` // never deliver after this time; zero: no limit but the TTL
	CreatedAt    time.Time       `json:"created_at"`
}

// Key is the Kafka message key of a push request: one subscriber's
// requests stay in order on one partition.
func (p *PushRequest) Key() string {
	return p.SiteID + ":" + p.SubscriberID
}

// Deadline is when delivering p stops making sense: the earlier of
// NotAfter and CreatedAt+TTL. It is zero when neither limits it (a TTL of
// 0 asks for one immediate attempt, not for a deadline).
func (p *PushRequest) Deadline() time.Time {
	var d time.Time
	if p.TTLSeconds > 0 && !p.CreatedAt.IsZero() {
		d = p.CreatedAt.Add(time.Duration(p.TTLSeconds) * time.Second)
	}
	if !p.NotAfter.IsZero() && (d.IsZero() || p.NotAfter.Before(d)) {
		d = p.NotAfter
	}
	return d
}

// Validate reports every problem of p at once.
func (p *PushRequest) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(p.RequestID) == "" {
		add("request_id: must not be empty")
	}
	if _, err := uuid.Parse(p.SiteID); err != nil {
		add("site_id: %q is not a uuid", p.SiteID)
	}
	if strings.TrimSpace(p.SubscriberID) == "" {
		add("subscriber_id: must not be empty")
	}
	errs = append(errs, p.Subscription.validate()...)
	if len(p.Payload) == 0 || !json.Valid(p.Payload) {
		add("payload: must be a JSON document")
	}
	if p.TTLSeconds < 0 || time.Duration(p.TTLSeconds)*time.Second > MaxPushTTL {
		add("ttl_seconds: %d is out of range 0..%d", p.TTLSeconds, int(MaxPushTTL/time.Second))
	}
	switch p.Urgency {
	case "", UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
	default:
		add("urgency: %q is not very-low, low, normal or high", p.Urgency)
	}
	if p.Topic != "" && !ValidPushTopic(p.Topic) {
		add("topic: %q is not at most 32 base64url characters", p.Topic)
	}
	if p.CreatedAt.IsZero() {
		add("created_at: must be set")
	}
	return errors.Join(errs...)
}

func (s PushSubscription) validate() []error {
	var errs []error
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("subscription.endpoint: %q is not an absolute http(s) URL", s.Endpoint))
	}
	if k, err := decodeB64URL(s.P256dh); err != nil || len(k) != 65 || k[0] != 4 {
		errs = append(errs, errors.New("subscription.p256dh: must be a base64url uncompressed P-256 point (65 bytes)"))
	}
	if a, err := decodeB64URL(s.Auth); err != nil || len(a) != 16 {
		errs = append(errs, errors.New("subscription.auth: must be a base64url 16-byte secret"))
	}
	return errs
}

// decodeB64URL reads base64url with or without padding.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// ValidPushTopic reports whether t can be a Web Push Topic header: at most
// 32 characters of the base64url alphabet (RFC 8030 §5.4).
func ValidPushTopic(t string) bool {
	if len(t) > 32 {
		return false
	}
	for _, c := range t {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}
