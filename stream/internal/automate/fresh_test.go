package automate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestFreshOverlay(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sub := &schemas.Subscription{Endpoint: "https://push.example/1", P256dh: "k", Auth: "a"}
	ev := func(typ schemas.EventType, at time.Time, props map[string]string) *schemas.Event {
		e := &schemas.Event{
			SiteID: "site", SubscriberID: "s1", Type: typ, Time: at, Props: props,
			Geo: schemas.Geo{Country: "FR"}, Device: schemas.Device{Language: "fr"}, Timezone: "Europe/Paris",
		}
		if typ == schemas.EventSubscribed {
			e.Subscription = sub
		}
		return e
	}
	stored := Subscriber{
		Status: "subscribed", Subscription: schemas.PushSubscription{Endpoint: "https://push.example/old"},
		Attrs: map[string]string{"country": "DE", "attr.first_name": "Old", "attr.plan": "pro"},
	}

	t.Run("not stored yet: the subscription and attributes just read", func(t *testing.T) {
		f := newFresh()
		f.add(ev(schemas.EventIdentify, t0, map[string]string{"first_name": "Ada"}), t0)
		f.add(ev(schemas.EventSubscribed, t0.Add(time.Second), nil), t0)
		got, found := f.overlay("site:s1", t0, Subscriber{}, false)
		require.True(t, found)
		require.Equal(t, "subscribed", got.Status)
		require.Equal(t, sub.Endpoint, got.Subscription.Endpoint)
		require.Equal(t, map[string]string{"country": "FR", "language": "fr", "attr.first_name": "Ada"}, got.Attrs)
		require.Equal(t, "Europe/Paris", got.Timezone)
	})
	t.Run("stored: recent values win, older stored ones stay", func(t *testing.T) {
		f := newFresh()
		f.add(ev(schemas.EventIdentify, t0, map[string]string{"first_name": "Ada"}), t0)
		got, found := f.overlay("site:s1", t0, stored, true)
		require.True(t, found)
		require.Equal(t, "https://push.example/old", got.Subscription.Endpoint, "no subscription event read: the stored one")
		require.Equal(t, "Ada", got.Attrs["attr.first_name"])
		require.Equal(t, "pro", got.Attrs["attr.plan"])
		require.Equal(t, "FR", got.Attrs["country"])
		require.Equal(t, "Old", stored.Attrs["attr.first_name"], "the stored map is not changed")
	})
	t.Run("an unsubscribe read lately ends the subscription", func(t *testing.T) {
		f := newFresh()
		f.add(ev(schemas.EventUnsubscribed, t0, nil), t0)
		got, _ := f.overlay("site:s1", t0, stored, true)
		require.Equal(t, "unsubscribed", got.Status)
	})
	t.Run("a subscribe without its subscription tells nothing", func(t *testing.T) {
		f := newFresh()
		e := ev(schemas.EventSubscribed, t0, nil)
		e.Subscription = nil
		f.add(e, t0)
		_, found := f.overlay("site:s1", t0, Subscriber{}, false)
		require.False(t, found)
	})
	t.Run("later by event time wins, whatever the reading order", func(t *testing.T) {
		f := newFresh()
		f.add(ev(schemas.EventIdentify, t0.Add(time.Second), map[string]string{"first_name": "New"}), t0)
		f.add(ev(schemas.EventIdentify, t0, map[string]string{"first_name": "Late"}), t0)
		got, _ := f.overlay("site:s1", t0, Subscriber{}, false)
		require.Equal(t, "New", got.Attrs["attr.first_name"])
	})
	t.Run("forgotten after freshTTL", func(t *testing.T) {
		f := newFresh()
		f.add(ev(schemas.EventSubscribed, t0, nil), t0)
		_, found := f.overlay("site:s1", t0.Add(freshTTL+time.Second), Subscriber{}, false)
		require.False(t, found)
	})
}
