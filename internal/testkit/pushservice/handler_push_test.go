package pushservice

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"
)

// start returns a served Server that the test closes.
func start(t *testing.T) *Server {
	t.Helper()
	s := New(Options{})
	require.NoError(t, s.Start())
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// sender is an application server with VAPID keys in webpush-go's format.
type sender struct{ priv, pub string }

func newSender(t *testing.T) sender {
	t.Helper()
	priv, pub, err := webpush.GenerateVAPIDKeys()
	require.NoError(t, err)
	return sender{priv, pub}
}

// options are webpush-go's defaults plus the keys and a subscriber.
func (s sender) options() *webpush.Options {
	return &webpush.Options{VAPIDPrivateKey: s.priv, VAPIDPublicKey: s.pub, Subscriber: "ops@example.com", TTL: 60}
}

// reply is what the push service answered.
type reply struct {
	status int
	header http.Header
}

// send pushes msg with webpush-go, as the sender role will.
func (s sender) send(t *testing.T, sub Subscription, msg []byte, o *webpush.Options) (reply, error) {
	t.Helper()
	ws := &webpush.Subscription{Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.P256dh, Auth: sub.Auth}}
	resp, err := webpush.SendNotificationWithContext(context.Background(), msg, ws, o)
	if err != nil {
		return reply{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return reply{resp.StatusCode, resp.Header}, resp.Body.Close()
}

func TestWebpushGoMessagesArriveIntactWithValidClaims(t *testing.T) {
	s := start(t)
	app := newSender(t)
	tests := []struct {
		name       string
		recordSize uint32 // webpush-go's option; 0: its default
		wantRS     uint32
		payload    []byte
	}{
		{"default options", 0, 4096, []byte(`{"title":"Sale","body":"50% off today"}`)},
		{"record size 1024", 1024, 1024, bytes.Repeat([]byte("é"), 400)},
		{"record size 128", 128, 128, []byte("short")},
		{"largest payload at the default record size", 0, 4096, bytes.Repeat([]byte{'x'}, 4096-86-16-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := s.NewSubscription(Behaviour{})
			o := app.options()
			o.RecordSize, o.Urgency, o.Topic = tt.recordSize, webpush.UrgencyHigh, "sale-42"
			before := time.Now().Truncate(time.Second)
			resp, err := app.send(t, sub, tt.payload, o)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, resp.status)
			require.True(t, strings.HasPrefix(resp.header.Get("Location"), s.URL()+"/message/"), resp.header.Get("Location"))

			got := s.Received(sub.ID)
			require.Len(t, got, 1)
			d := got[0]
			require.Empty(t, d.Reason)
			require.Equal(t, tt.payload, d.Plaintext)
			require.Equal(t, s.URL(), d.Claims.Aud)
			require.Equal(t, "mailto:ops@example.com", d.Claims.Sub)
			require.Equal(t, app.pub, d.Claims.Key)
			require.True(t, d.Claims.Exp.After(before) && !d.Claims.Exp.After(time.Now().Add(24*time.Hour)), d.Claims.Exp)
			require.Equal(t, 60, d.TTL)
			require.Equal(t, "high", d.Urgency)
			require.Equal(t, "sale-42", d.Topic)
			require.Equal(t, "aes128gcm", d.ContentEncoding)
			require.Equal(t, tt.wantRS, d.RecordSize)
			require.Equal(t, int64(tt.wantRS), d.BodySize) // webpush-go pads the body to the record size
		})
	}
	require.Equal(t, Counts{Requests: 4, Delivered: 4, ByStatus: map[int]int{201: 4}}, s.Counts())
}

func TestWebpushGoPrefixesMailtoItself(t *testing.T) {
	// webpush-go v1.4.0 prepends "mailto:" unless the subscriber starts
	// with "https:": a subscriber given as mailto:... is sent as mailto:mailto:...
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Behaviour{})
	o := app.options()
	o.Subscriber = "mailto:ops@example.com"
	resp, err := app.send(t, sub, []byte("hi"), o)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.status)
	require.Contains(t, s.Received(sub.ID)[0].Reason, `sub "mailto:mailto:ops@example.com"`)
}

func TestBodyOver4096BytesIsAnswered413(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Behaviour{})
	o := app.options()
	o.RecordSize = 8192 // webpush-go pads the body to this
	resp, err := app.send(t, sub, []byte("fits a record, not the push service"), o)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.status)
	d := s.Received(sub.ID)[0]
	require.Equal(t, http.StatusRequestEntityTooLarge, d.Status)
	require.Contains(t, d.Reason, "exceeds 4096")
	require.Nil(t, d.Plaintext)
}

func TestUnknownEndpointIsAnswered404(t *testing.T) {
	s := start(t)
	app := newSender(t)
	sub := s.NewSubscription(Behaviour{})
	sub.Endpoint = s.URL() + pushPath + "gone"
	resp, err := app.send(t, sub, []byte("hi"), app.options())
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, resp.status)
	require.Equal(t, "no such subscription", s.Received("gone")[0].Reason)
	require.Empty(t, s.Received(sub.ID))
}
