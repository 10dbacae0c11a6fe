package simulate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pushpipe/pushpipe/schemas"
)

// InvalidKind names a way the generator breaks an event on purpose. Each is
// a mistake a buggy SDK or a hand-written integration makes, and ingest must
// reject that one event with a clear error while accepting the rest of its batch.
type InvalidKind int

// The kinds of deliberately invalid events; Valid marks a valid event.
const (
	Valid InvalidKind = iota
	InvalidUnknownType
	InvalidMissingSubscriberID
	InvalidBadCurrency
	InvalidNegativeRevenue
	InvalidBadEventID
	InvalidSubscribedWithoutSubscription
	InvalidOversizeURL
	InvalidObjectProp
	numKinds
)

var kindNames = [...]string{
	Valid:                                "valid",
	InvalidUnknownType:                   "unknown_type",
	InvalidMissingSubscriberID:           "missing_subscriber_id",
	InvalidBadCurrency:                   "bad_currency",
	InvalidNegativeRevenue:               "negative_revenue",
	InvalidBadEventID:                    "bad_event_id",
	InvalidSubscribedWithoutSubscription: "subscribed_without_subscription",
	InvalidOversizeURL:                   "oversize_url",
	InvalidObjectProp:                    "object_prop",
}

func (k InvalidKind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("InvalidKind(%d)", int(k))
	}
	return kindNames[k]
}

// Field is the beacon field that makes the event invalid, as an error should name it.
func (k InvalidKind) Field() string {
	switch k {
	case InvalidUnknownType:
		return "type"
	case InvalidMissingSubscriberID:
		return "subscriber_id"
	case InvalidBadCurrency:
		return "currency"
	case InvalidNegativeRevenue:
		return "revenue"
	case InvalidBadEventID:
		return "event_id"
	case InvalidSubscribedWithoutSubscription:
		return "subscription"
	case InvalidOversizeURL:
		return "url"
	case InvalidObjectProp:
		return "props"
	default:
		return ""
	}
}

// makeInvalid builds an invalid event of kind k in the context of tmpl (the
// visitor's next real event): same visitor, session, time and page, so it
// looks like a real event gone wrong rather than noise.
func makeInvalid(r rnd, k InvalidKind, tmpl schemas.BeaconEvent) schemas.BeaconEvent {
	e := schemas.BeaconEvent{
		EventID:      r.uuidV7FromMillis(tmpl.TS),
		Type:         schemas.EventPageView,
		SubscriberID: tmpl.SubscriberID,
		ExternalID:   tmpl.ExternalID,
		SessionID:    tmpl.SessionID,
		TS:           tmpl.TS,
		URL:          tmpl.URL,
		Language:     tmpl.Language,
	}
	switch k {
	case InvalidUnknownType:
		e.Type = "page_vew"
	case InvalidMissingSubscriberID:
		e.SubscriberID = ""
	case InvalidBadCurrency:
		rev := 49.90
		e.Type, e.Name, e.Revenue, e.Currency = schemas.EventConversion, "purchase", &rev, "EURO"
	case InvalidNegativeRevenue:
		rev := -19.99
		e.Type, e.Name, e.Revenue, e.Currency = schemas.EventConversion, "purchase", &rev, "USD"
	case InvalidBadEventID:
		e.EventID = "evt-" + strings.ToLower(r.token(6))
	case InvalidSubscribedWithoutSubscription:
		e.Type, e.PromptVariant = schemas.EventSubscribed, "bell"
	case InvalidOversizeURL:
		e.URL = originOf(tmpl.URL) + "/search?q=" + strings.Repeat("a", schemas.MaxURLLen)
	case InvalidObjectProp:
		e.Type, e.Name = schemas.EventCustom, "add_to_cart"
		e.Props = map[string]json.RawMessage{"sku": json.RawMessage(`"DP-22L"`), "item": json.RawMessage(`{"sku":"DP-22L","quantity":1}`)}
	}
	return e
}

// originOf returns scheme://host of an absolute URL, or the URL itself.
func originOf(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}
