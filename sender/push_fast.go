package sender

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// fastPusher sends what webpush-go sends (same encryption, headers and
// claims; checked by decrypting both at the test push service and by
// re-sealing webpush-go's bodies byte for byte), but signs the VAPID token
// once per site and push-service origin every jwtReuse instead of per
// message, and uses crypto/ecdh instead of the deprecated crypto/elliptic.
type fastPusher struct {
	cfg    Config
	client *http.Client
	jwts   *jwtCache
}

func (p *fastPusher) push(ctx context.Context, req *schemas.PushRequest, keys vapidKeys, ttl int) attempt {
	body, err := encrypt(req.Payload, req.Subscription.P256dh, req.Subscription.Auth, p.cfg.recordSize(len(req.Payload)))
	if err != nil {
		return attempt{Err: err, Fatal: fatalReason(err)}
	}
	auth, err := p.jwts.authorization(req.SiteID, keys, req.Subscription.Endpoint)
	if err != nil {
		return attempt{Err: err, Fatal: ReasonConfig}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.Subscription.Endpoint, bytes.NewReader(body))
	if err != nil {
		return attempt{Err: err, Fatal: ReasonInvalidRequest}
	}
	h := hr.Header
	h["Content-Encoding"] = []string{"aes128gcm"}
	h["Content-Type"] = []string{"application/octet-stream"}
	h["Ttl"] = []string{strconv.Itoa(ttl)}
	h["Authorization"] = []string{auth}
	if req.Topic != "" {
		h["Topic"] = []string{req.Topic}
	}
	if req.Urgency != "" {
		h["Urgency"] = []string{req.Urgency}
	}
	start := time.Now()
	resp, err := p.client.Do(hr)
	if err != nil {
		return attempt{Latency: time.Since(start), Err: err}
	}
	return answered(resp, start)
}

func fatalReason(err error) string {
	if errors.Is(err, ErrTooLarge) {
		return ReasonTooLarge
	}
	return ReasonEncrypt
}
