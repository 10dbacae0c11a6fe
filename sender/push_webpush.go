package sender

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/pushpipe/pushpipe/schemas"
)

// newHTTPClient is the one client every push goes through: HTTP/2 when the
// push service offers it, pooled connections per origin, and a timeout on
// every stage of an attempt.
func newHTTPClient(cfg Config) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.Concurrency * 2,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}
}

// webPusher sends with webpush-go through the shared client.
type webPusher struct {
	cfg    Config
	client *http.Client
}

// push makes one attempt; the body of any answer is drained and closed so
// the connection goes back to the pool.
func (p *webPusher) push(ctx context.Context, req *schemas.PushRequest, keys vapidKeys, ttl int) attempt {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	opts := &webpush.Options{
		HTTPClient:      p.client,
		RecordSize:      uint32(p.cfg.recordSize(len(req.Payload))), //nolint:gosec // at most MaxBody after checkSize
		Subscriber:      keys.subscriber(),
		Topic:           req.Topic,
		TTL:             ttl,
		Urgency:         webpush.Urgency(req.Urgency),
		VAPIDPublicKey:  keys.Public,
		VAPIDPrivateKey: keys.Private,
	}
	sub := &webpush.Subscription{
		Endpoint: req.Subscription.Endpoint,
		Keys:     webpush.Keys{P256dh: req.Subscription.P256dh, Auth: req.Subscription.Auth},
	}
	start := time.Now()
	resp, err := webpush.SendNotificationWithContext(ctx, req.Payload, sub, opts)
	if err != nil {
		a := attempt{Latency: time.Since(start), Err: err}
		if !isTransport(err) {
			a.Fatal = ReasonEncrypt
		}
		return a
	}
	return answered(resp, start)
}

// answered reads what a push service answered to an attempt started at
// start, draining and closing the body so the connection is reused.
func answered(resp *http.Response, start time.Time) attempt {
	a := attempt{Latency: time.Since(start), Status: resp.StatusCode}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	a.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return a
}

// isTransport tells a network failure or timeout (worth retrying), which
// the http.Client returns as *url.Error, from an error webpush-go returns
// before sending: keys that do not decode or encrypt, which no retry fixes.
func isTransport(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// subscriber is the sub claim as webpush-go wants it: it prefixes
// "mailto:" itself unless the contact is an https: URL.
func (k vapidKeys) subscriber() string {
	return strings.TrimPrefix(k.Contact, "mailto:")
}
