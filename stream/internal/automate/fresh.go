package automate

import (
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// freshTTL is how long a subscription read from the events topic stands in
// for ClickHouse: the sink stores it well within that.
const freshTTL = 2 * time.Minute

// freshCap bounds the fresh subscriptions kept; past it the expired ones
// are dropped, and if none is, the oldest half of the map goes.
const freshCap = 100_000

// fresh keeps the subscriptions of subscribe events the trigger consumer
// just read, so a welcome push is dispatched before the sink stored the
// subscribe in ClickHouse (saving up to a sink batch interval). It is used
// only for subscribers ClickHouse does not know yet. The consumer writes,
// the dispatcher reads.
type fresh struct {
	mu   sync.Mutex
	subs map[string]freshSub // site:subscriber
}

type freshSub struct {
	sub Subscriber
	at  time.Time // when it was read
}

func newFresh() *fresh { return &fresh{subs: map[string]freshSub{}} }

// add keeps e's subscription when e is a subscribe, and forgets it when e
// ends it.
func (f *fresh) add(e *schemas.Event, now time.Time) {
	switch {
	case e.Type == schemas.EventUnsubscribed || e.Type == schemas.EventSubscriptionExpired:
		f.mu.Lock()
		delete(f.subs, e.SiteID+":"+e.SubscriberID)
		f.mu.Unlock()
		return
	case e.Type != schemas.EventSubscribed || e.Subscription == nil:
		return
	}
	s := e.Subscription
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.subs) >= freshCap {
		f.evict(now)
	}
	f.subs[e.SiteID+":"+e.SubscriberID] = freshSub{at: now, sub: Subscriber{
		Status:       "subscribed",
		Subscription: schemas.PushSubscription{Endpoint: s.Endpoint, P256dh: s.P256dh, Auth: s.Auth},
		Timezone:     e.Timezone,
	}}
}

// evict drops the expired entries, or the older half when none expired.
func (f *fresh) evict(now time.Time) {
	for k, v := range f.subs {
		if now.Sub(v.at) > freshTTL {
			delete(f.subs, k)
		}
	}
	if len(f.subs) < freshCap {
		return
	}
	n := 0
	for k := range f.subs {
		if n >= freshCap/2 {
			return
		}
		delete(f.subs, k)
		n++
	}
}

// get returns the fresh subscription of site:subscriber key.
func (f *fresh) get(key string, now time.Time) (Subscriber, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.subs[key]
	if !ok || now.Sub(v.at) > freshTTL {
		return Subscriber{}, false
	}
	return v.sub, true
}
