package schemas

import (
	_ "embed"
	"encoding/json"
)

// BeaconSchema is the JSON schema (draft 2020-12) of a beacon body, served to
// SDK authors and checked against BeaconEventTypes in tests.
//
//go:embed beacon.schema.json
var BeaconSchema []byte

// Limits of a beacon; ingest enforces them.
const (
	MaxBeaconBytes  = 256 << 10 // whole body
	MaxBeaconEvents = 100       // events per body
	MaxPropKeys     = 50
	MaxPropKeyLen   = 64
	MaxPropValueLen = 1024
	MaxURLLen       = 2048
	MaxIDLen        = 128
	MaxNameLen      = 128
	MaxTitleLen     = 512
	MaxEndpointLen  = 1024
	MaxTimezoneLen  = 64 // an IANA name such as America/Argentina/ComodRivadavia
)

// Beacon is the body of POST /v1/events: what the browser SDK sends.
// Times are Unix epoch milliseconds of the browser's clock.
type Beacon struct {
	SentAt int64         `json:"sent_at,omitempty"` // browser clock when sent: used for skew correction
	Events []BeaconEvent `json:"events"`
}

// BeaconEvent is one event of a beacon, before ingest validates and enriches it.
type BeaconEvent struct {
	EventID       string                     `json:"event_id,omitempty"`
	Type          EventType                  `json:"type"`
	SubscriberID  string                     `json:"subscriber_id"`
	ExternalID    string                     `json:"external_id,omitempty"`
	SessionID     string                     `json:"session_id,omitempty"`
	Name          string                     `json:"name,omitempty"`
	TS            int64                      `json:"ts,omitempty"`
	URL           string                     `json:"url,omitempty"`
	Referrer      string                     `json:"referrer,omitempty"`
	Title         string                     `json:"title,omitempty"`
	Language      string                     `json:"language,omitempty"`
	Timezone      string                     `json:"timezone,omitempty"` // IANA name from Intl; ingest checks it is a known zone
	Props         map[string]json.RawMessage `json:"props,omitempty"`    // string, number or boolean values
	Revenue       *float64                   `json:"revenue,omitempty"`
	Currency      string                     `json:"currency,omitempty"`
	PushID        string                     `json:"push_id,omitempty"`
	CampaignID    string                     `json:"campaign_id,omitempty"`
	AutomationID  string                     `json:"automation_id,omitempty"`
	Action        string                     `json:"action,omitempty"`
	PromptVariant string                     `json:"prompt_variant,omitempty"`
	Subscription  *BeaconSubscription        `json:"subscription,omitempty"`
}

// BeaconSubscription is a PushSubscription as the SDK serialises it.
type BeaconSubscription struct {
	Endpoint       string `json:"endpoint"`
	P256dh         string `json:"p256dh"`
	Auth           string `json:"auth"`
	ExpirationTime *int64 `json:"expiration_time,omitempty"` // epoch ms
}
