package automate

import (
	"maps"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// freshTTL is how long what the trigger consumer read about a subscriber
// stands in for ClickHouse: the sink stores it well within that.
const freshTTL = 2 * time.Minute

// freshCap bounds the subscribers kept; past it the expired ones are
// dropped, and if none is, an arbitrary half of the map goes.
const freshCap = 100_000

// fresh is what the trigger consumer read lately about each subscriber:
// their latest subscription and attributes, from every event of the last
// freshTTL. The dispatcher lays it over what ClickHouse stored, so a push
// triggered by an event (a welcome, personalised with the subscriber's
// attributes) is dispatched without waiting for the sink to store that
// event. A subscriber's events share a partition, so they are read in
// order; "latest" is by event time all the same. The consumer writes, the
// dispatcher reads.
type fresh struct {
	mu   sync.Mutex
	subs map[string]*freshSub // site:subscriber
}

type freshSub struct {
	read time.Time // when the consumer last read an event of theirs
	// subscription: status "" when no subscription event was read
	status       string
	subscription schemas.PushSubscription
	statusAt     time.Time
	attrs        map[string]freshValue // template variables, as Subscriber.Attrs
}

type freshValue struct {
	v  string
	at time.Time
}

func newFresh() *fresh { return &fresh{subs: map[string]*freshSub{}} }

// add records what e says about its subscriber.
func (f *fresh) add(e *schemas.Event, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := e.SiteID + ":" + e.SubscriberID
	s := f.subs[key]
	if s == nil {
		if len(f.subs) >= freshCap {
			f.evict(now)
		}
		s = &freshSub{attrs: map[string]freshValue{}}
		f.subs[key] = s
	}
	s.read = now
	// A subscribe without its subscription tells nothing to send to.
	status := subscriptionStatus(e.Type)
	if status == "subscribed" && e.Subscription == nil {
		status = ""
	}
	if status != "" && !e.Time.Before(s.statusAt) {
		s.status, s.statusAt = status, e.Time
		s.subscription = schemas.PushSubscription{}
		if e.Subscription != nil {
			s.subscription = schemas.PushSubscription{Endpoint: e.Subscription.Endpoint, P256dh: e.Subscription.P256dh, Auth: e.Subscription.Auth}
		}
	}
	set := func(name, v string) {
		if v != "" && !e.Time.Before(s.attrs[name].at) {
			s.attrs[name] = freshValue{v: v, at: e.Time}
		}
	}
	set("country", e.Geo.Country)
	set("region", e.Geo.Region)
	set("city", e.Geo.City)
	set("language", e.Device.Language)
	set("browser", e.Device.Browser)
	set("os", e.Device.OS)
	set("device_type", e.Device.Type)
	set("$timezone", e.Timezone)
	if e.Type == schemas.EventIdentify {
		for k, v := range e.Props {
			if !e.Time.Before(s.attrs["attr."+k].at) {
				s.attrs["attr."+k] = freshValue{v: v, at: e.Time}
			}
		}
	}
}

func subscriptionStatus(t schemas.EventType) string {
	switch t {
	case schemas.EventSubscribed:
		return "subscribed"
	case schemas.EventUnsubscribed:
		return "unsubscribed"
	case schemas.EventSubscriptionExpired:
		return "expired"
	}
	return ""
}

// evict drops the expired entries, or half of them when none expired.
func (f *fresh) evict(now time.Time) {
	for k, v := range f.subs {
		if now.Sub(v.read) > freshTTL {
			delete(f.subs, k)
		}
	}
	n := 0
	for k := range f.subs {
		if len(f.subs) < freshCap || n >= freshCap/2 {
			return
		}
		delete(f.subs, k)
		n++
	}
}

// overlay lays what was read lately about site:subscriber key over stored,
// what ClickHouse holds (found: ClickHouse knows the subscriber): a
// subscription event read lately is the latest one, and so are the
// attributes read lately.
func (f *fresh) overlay(key string, now time.Time, stored Subscriber, found bool) (Subscriber, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.subs[key]
	if s == nil || now.Sub(s.read) > freshTTL {
		return stored, found
	}
	if s.status != "" {
		stored.Status, stored.Subscription, found = s.status, s.subscription, true
	}
	if len(s.attrs) > 0 {
		stored.Attrs = maps.Clone(stored.Attrs)
		if stored.Attrs == nil {
			stored.Attrs = map[string]string{}
		}
		for k, v := range s.attrs {
			if k == "$timezone" {
				stored.Timezone = v.v
				continue
			}
			stored.Attrs[k] = v.v
		}
	}
	return stored, found
}
