package schemas

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func validPushRequest() PushRequest {
	point := make([]byte, 65)
	point[0] = 4
	return PushRequest{
		RequestID:    "req-1",
		SiteID:       "0193a5a0-7b7c-7cc0-8000-000000000001",
		SubscriberID: "sub-1",
		Subscription: PushSubscription{
			Endpoint: "https://push.example/p/abc",
			P256dh:   base64.RawURLEncoding.EncodeToString(point),
			Auth:     base64.RawURLEncoding.EncodeToString(make([]byte, 16)),
		},
		Payload:    json.RawMessage(`{"title":"Hi","push_id":"req-1"}`),
		TTLSeconds: 3600,
		Urgency:    UrgencyHigh,
		Topic:      "sale",
		CreatedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestPushRequestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*PushRequest)
		want   []string // substrings of the error; none: valid
	}{
		{name: "valid", modify: func(*PushRequest) {}},
		{name: "padded keys accepted", modify: func(p *PushRequest) { p.Subscription.Auth += "==" }},
		{name: "every problem at once", modify: func(p *PushRequest) {
			*p = PushRequest{Urgency: "urgent", Topic: "no spaces allowed", TTLSeconds: -1}
		}, want: []string{
			"request_id: must not be empty", "site_id:", "subscriber_id: must not be empty",
			"subscription.endpoint:", "subscription.p256dh:", "subscription.auth:", "payload: must be a JSON document",
			"ttl_seconds: -1 is out of range", `urgency: "urgent"`, "topic:", "created_at: must be set",
		}},
		{name: "ttl above 28 days", modify: func(p *PushRequest) { p.TTLSeconds = 28*24*3600 + 1 }, want: []string{"ttl_seconds"}},
		{name: "payload not json", modify: func(p *PushRequest) { p.Payload = json.RawMessage(`{nope`) }, want: []string{"payload"}},
		{name: "endpoint not a url", modify: func(p *PushRequest) { p.Subscription.Endpoint = "mailto:x@y" }, want: []string{"subscription.endpoint"}},
		{name: "p256dh wrong length", modify: func(p *PushRequest) { p.Subscription.P256dh = "AAAA" }, want: []string{"subscription.p256dh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPushRequest()
			tt.modify(&p)
			err := p.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestPushRequestJSONRoundTrip(t *testing.T) {
	p := validPushRequest()
	p.NotAfter = p.CreatedAt.Add(time.Hour)
	b, err := json.Marshal(&p)
	require.NoError(t, err)
	require.Contains(t, string(b), `"subscription":{"endpoint":"https://push.example/p/abc"`)
	var back PushRequest
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, p, back)
	require.Equal(t, "0193a5a0-7b7c-7cc0-8000-000000000001:sub-1", back.Key())

	p.NotAfter = time.Time{}
	b, err = json.Marshal(&p)
	require.NoError(t, err)
	require.NotContains(t, string(b), "not_after", "a zero not_after is left out")
}

func TestPushRequestDeadline(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		ttl      int
		notAfter time.Time
		want     time.Time
	}{
		{name: "ttl only", ttl: 60, want: created.Add(time.Minute)},
		{name: "not_after earlier", ttl: 60, notAfter: created.Add(time.Second), want: created.Add(time.Second)},
		{name: "ttl earlier", ttl: 60, notAfter: created.Add(time.Hour), want: created.Add(time.Minute)},
		{name: "ttl 0 without not_after: no deadline", ttl: 0},
		{name: "ttl 0 with not_after", ttl: 0, notAfter: created.Add(time.Hour), want: created.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PushRequest{TTLSeconds: tt.ttl, NotAfter: tt.notAfter, CreatedAt: created}
			require.True(t, tt.want.Equal(p.Deadline()), "got %s", p.Deadline())
		})
	}
}
