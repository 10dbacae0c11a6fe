package schemas

import (
	"time"
)

// EventType names what happened. The set is closed: ingest refuses any other value.
type EventType string

// Beacon event types, sent by the browser SDK and service worker.
const (
	EventOptinPromptShown EventType = "optin_prompt_shown"
	EventOptinAllowed     EventType = "optin_allowed"
	EventOptinDenied      EventType = "optin_denied"
	EventOptinDismissed   EventType = "optin_dismissed"
	EventSubscribed       EventType = "subscribed"
	EventUnsubscribed     EventType = "unsubscribed"
	EventPageView         EventType = "page_view"
	EventCustom           EventType = "custom"
	EventConversion       EventType = "conversion"
	EventIdentify         EventType = "identify"
	EventPushDelivered    EventType = "push_delivered"
	EventPushClicked      EventType = "push_clicked"
	EventPushClosed       EventType = "push_closed"
)

// System event types, produced by Pushpipe itself (sender, evaluator), never accepted from a browser.
const (
	EventPushSent            EventType = "push_sent"
	EventPushFailed          EventType = "push_failed"
	EventSubscriptionExpired EventType = "subscription_expired"
	EventSegmentEntered      EventType = "segment_entered"
	EventSegmentExited       EventType = "segment_exited"
	// EventPushHeldOut: an automation or campaign member in the holdout, never sent (props step_id, variant).
	EventPushHeldOut EventType = "push_held_out"
)

// EventSubscriberErased is a control event, produced by the dashboard API
// when a subscriber is erased: the segment evaluator drops the subscriber's
// state and timers, the sink never stores it, the automations ignore it. It
// carries only the site and subscriber ids, and is in neither list below (a
// browser cannot send it, a segment rule cannot match it).
const EventSubscriberErased EventType = "subscriber_erased"

// BeaconEventTypes lists the types a browser may send, in a stable order.
func BeaconEventTypes() []EventType {
	return []EventType{
		EventOptinPromptShown, EventOptinAllowed, EventOptinDenied, EventOptinDismissed,
		EventSubscribed, EventUnsubscribed, EventPageView, EventCustom, EventConversion,
		EventIdentify, EventPushDelivered, EventPushClicked, EventPushClosed,
	}
}

// SystemEventTypes lists the types only Pushpipe's own services produce.
func SystemEventTypes() []EventType {
	return []EventType{
		EventPushSent, EventPushFailed, EventSubscriptionExpired,
		EventSegmentEntered, EventSegmentExited, EventPushHeldOut,
	}
}

// IsBeacon reports whether a browser may send events of type t.
func (t EventType) IsBeacon() bool {
	for _, b := range BeaconEventTypes() {
		if b == t {
			return true
		}
	}
	return false
}

// Event is the envelope (version 1) of everything on TopicEvents and in the
// ClickHouse events table. Fields that do not apply to a type are empty.
type Event struct {
	EventID      string    `json:"event_id"` // UUIDv7: from the SDK when given, else assigned at ingest
	SiteID       string    `json:"site_id"`
	SubscriberID string    `json:"subscriber_id"` // anonymous id, stable per browser
	ExternalID   string    `json:"external_id,omitempty"`
	SessionID    string    `json:"session_id,omitempty"`
	Type         EventType `json:"type"`
	Name         string    `json:"name,omitempty"` // custom event name or conversion goal

	// Time is when the event happened: ClientTime corrected for the client's clock skew.
	Time       time.Time `json:"time"`
	ClientTime time.Time `json:"client_time"`
	ServerTime time.Time `json:"server_time"` // when ingest received it

	URL      string            `json:"url,omitempty"`
	Referrer string            `json:"referrer,omitempty"`
	Title    string            `json:"title,omitempty"`
	Props    map[string]string `json:"props,omitempty"`

	Revenue  float64 `json:"revenue,omitempty"`
	Currency string  `json:"currency,omitempty"` // ISO 4217, upper case

	Device Device `json:"device"`
	Geo    Geo    `json:"geo"`
	IP     string `json:"ip,omitempty"` // anonymised unless the site opted out

	Timezone string `json:"timezone,omitempty"` // IANA name from the browser (Intl), validated at ingest

	PushID        string `json:"push_id,omitempty"`
	CampaignID    string `json:"campaign_id,omitempty"`
	AutomationID  string `json:"automation_id,omitempty"`
	Action        string `json:"action,omitempty"`         // notification action id on push_clicked
	PromptVariant string `json:"prompt_variant,omitempty"` // opt-in prompt variant
	SegmentID     string `json:"segment_id,omitempty"`
	Reason        string `json:"reason,omitempty"` // push_failed and subscription_expired

	Subscription *Subscription `json:"subscription,omitempty"` // on subscribed
}

// Device is what ingest derives from the user agent plus the browser's language.
type Device struct {
	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	Type           string `json:"type,omitempty"` // desktop, mobile, tablet, bot, other
	Language       string `json:"language,omitempty"`
}

// Geo is what ingest derives from the IP address when a GeoIP database is configured.
type Geo struct {
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Region  string `json:"region,omitempty"`
	City    string `json:"city,omitempty"`
}

// Subscription is a browser's PushSubscription.
type Subscription struct {
	Endpoint       string     `json:"endpoint"`
	P256dh         string     `json:"p256dh"`
	Auth           string     `json:"auth"`
	ExpirationTime *time.Time `json:"expiration_time,omitempty"`
}

// Key is the Kafka message key of an event: it keeps one subscriber's events
// in order on one partition.
func (e *Event) Key() string {
	return e.SiteID + ":" + e.SubscriberID
}
