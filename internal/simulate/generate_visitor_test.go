package simulate

import (
	"encoding/base64"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// TestJourneysAreRealistic checks what dashboards and segments built on the
// simulated traffic rely on: every kind of beacon shows up, each browser's
// story is in order and makes sense, and the fields are well formed.
func TestJourneysAreRealistic(t *testing.T) {
	cfg := testConfig()
	cfg.Visitors = 400
	span := time.Duration(cfg.Days)*24*time.Hour - ageMargin
	types := map[schemas.EventType]int{}
	names := map[string]int{}
	bySubscriber := map[string][]schemas.BeaconEvent{}
	uas := map[string]bool{}
	for _, b := range generateAll(cfg) {
		uas[b.userAgent] = true
		for _, e := range b.events {
			types[e.Type]++
			if e.Name != "" {
				names[e.Name]++
			}
			bySubscriber[e.SubscriberID] = append(bySubscriber[e.SubscriberID], e)
			checkEventFields(t, e, b.skew, span)
		}
	}
	for _, typ := range []schemas.EventType{
		schemas.EventPageView, schemas.EventOptinPromptShown, schemas.EventOptinAllowed, schemas.EventOptinDenied,
		schemas.EventOptinDismissed, schemas.EventSubscribed, schemas.EventUnsubscribed, schemas.EventCustom,
		schemas.EventConversion, schemas.EventIdentify,
	} {
		require.Positive(t, types[typ], "no %s events", typ)
	}
	require.Greater(t, types[schemas.EventPageView], types[schemas.EventCustom], "page views dominate")
	for _, n := range []string{"add_to_cart", "view_item", "purchase"} {
		require.Positive(t, names[n], "no %s events", n)
	}
	require.GreaterOrEqual(t, len(uas), 8, "a mix of browsers")
	for _, evs := range bySubscriber {
		checkStory(t, evs)
	}
}

func checkEventFields(t *testing.T, e schemas.BeaconEvent, skew, span time.Duration) {
	t.Helper()
	u, err := uuid.Parse(e.EventID)
	require.NoError(t, err)
	require.Equal(t, uuid.Version(7), u.Version())
	sec, nsec := u.Time().UnixTime()
	require.Equal(t, e.TS, sec*1000+nsec/1e6, "the id carries the event's browser time")
	trueTime := time.UnixMilli(e.TS).Add(-skew)
	require.False(t, trueTime.After(testNow), "no event from the future")
	require.False(t, trueTime.Before(testNow.Add(-span)), "no event before the span")
	pu, err := url.Parse(e.URL)
	require.NoError(t, err)
	require.Equal(t, "https", pu.Scheme)
	if e.Type == schemas.EventPageView {
		require.NotEmpty(t, e.Title)
	}
	if e.Type == schemas.EventConversion && e.Name == "purchase" {
		require.NotNil(t, e.Revenue)
		require.Positive(t, *e.Revenue)
		require.Len(t, e.Currency, 3)
	}
	if e.Type == schemas.EventSubscribed {
		checkSubscription(t, e.Subscription)
	}
}

func checkSubscription(t *testing.T, s *schemas.BeaconSubscription) {
	t.Helper()
	require.NotNil(t, s)
	ep, err := url.Parse(s.Endpoint)
	require.NoError(t, err)
	require.Equal(t, "https", ep.Scheme)
	key, err := base64.RawURLEncoding.DecodeString(s.P256dh)
	require.NoError(t, err)
	require.Len(t, key, 65)
	require.Equal(t, byte(0x04), key[0], "an uncompressed P-256 point")
	auth, err := base64.RawURLEncoding.DecodeString(s.Auth)
	require.NoError(t, err)
	require.Len(t, auth, 16)
}

// checkStory: times never go backwards, the browser subscribes only right
// after allowing the prompt, unsubscribes only while subscribed, and an
// identified visitor keeps its external id.
func checkStory(t *testing.T, evs []schemas.BeaconEvent) {
	t.Helper()
	require.True(t, slices.IsSortedFunc(evs, func(a, b schemas.BeaconEvent) int { return int(a.TS - b.TS) }))
	subscribed, external := false, ""
	for i, e := range evs {
		switch e.Type {
		case schemas.EventSubscribed:
			require.False(t, subscribed)
			require.Equal(t, schemas.EventOptinAllowed, evs[i-1].Type)
			require.Equal(t, evs[i-1].PromptVariant, e.PromptVariant)
			subscribed = true
		case schemas.EventUnsubscribed:
			require.True(t, subscribed)
			subscribed = false
		case schemas.EventIdentify:
			require.NotEmpty(t, e.ExternalID)
			external = e.ExternalID
		}
		require.Equal(t, external, e.ExternalID)
	}
}
