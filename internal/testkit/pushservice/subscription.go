package pushservice

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

var b64 = base64.RawURLEncoding

// Answer is how the service answers one push request that passed its checks.
type Answer struct {
	Status     int           // HTTP status; 0 means 201 Created with a Location header
	RetryAfter string        // Retry-After header value, such as "30" or an HTTP date; empty: none
	Delay      time.Duration // wait this long before answering (the client may give up first)
	Hang       bool          // never answer: hold the request until the client gives up or Close
}

// Behaviour scripts an endpoint: Script answers the first requests in order,
// Then answers every request after them (its zero value: 201 Created).
type Behaviour struct {
	Script []Answer
	Then   Answer
}

// Always is a behaviour that answers every request with a.
func Always(a Answer) Behaviour { return Behaviour{Then: a} }

// Sequence is a behaviour that answers with as in order, then 201.
func Sequence(as ...Answer) Behaviour { return Behaviour{Script: as} }

// Subscription is what a browser's PushSubscription hands to the site: the
// endpoint and the keys, base64url without padding as getKey() gives them.
type Subscription struct {
	ID       string // the endpoint's last path segment; the key of Received
	Endpoint string
	P256dh   string // the user agent's public key, 65-byte uncompressed P-256 point
	Auth     string // the 16-byte authentication secret
}

// MarshalJSON gives the shape of the browser's PushSubscription.toJSON().
func (s Subscription) MarshalJSON() ([]byte, error) {
	type keys struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	}
	return json.Marshal(struct {
		ID             string `json:"id"`
		Endpoint       string `json:"endpoint"`
		ExpirationTime *int64 `json:"expirationTime"`
		Keys           keys   `json:"keys"`
	}{ID: s.ID, Endpoint: s.Endpoint, Keys: keys{s.P256dh, s.Auth}})
}

// endpoint is the push service's side of one subscription: the user
// agent's keys (to decrypt), the bound VAPID key, and the script.
type endpoint struct {
	id       string
	ua       *ecdh.PrivateKey
	auth     []byte
	boundKey []byte // nil: any VAPID key is accepted

	mu        sync.Mutex
	behaviour Behaviour
	next      int
}

// answer returns the answer for the next request and advances the script.
func (e *endpoint) answer() Answer {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.next < len(e.behaviour.Script) {
		e.next++
		return e.behaviour.Script[e.next-1]
	}
	return e.behaviour.Then
}

// NewSubscription creates an endpoint answering as b, with a fresh P-256 key
// pair and authentication secret, as a browser does at subscribe time.
// Any VAPID key is accepted on it.
func (s *Server) NewSubscription(b Behaviour) Subscription {
	return s.newSubscription(b, nil)
}

// NewBoundSubscription is NewSubscription restricted to one application
// server key (base64url of the 65-byte public key), like subscribe() with
// applicationServerKey: pushes signed with another key are answered 403.
func (s *Server) NewBoundSubscription(b Behaviour, applicationServerKey string) (Subscription, error) {
	key, err := decodeKey(applicationServerKey)
	if err != nil {
		return Subscription{}, err
	}
	if _, err := ecdh.P256().NewPublicKey(key); err != nil {
		return Subscription{}, err
	}
	return s.newSubscription(b, key), nil
}

func (s *Server) newSubscription(b Behaviour, boundKey []byte) Subscription {
	ua := newP256Key()
	e := &endpoint{id: rand.Text(), ua: ua, auth: randomBytes(16), boundKey: boundKey, behaviour: b}
	s.mu.Lock()
	s.endpoints[e.id] = e
	s.mu.Unlock()
	return Subscription{
		ID:       e.id,
		Endpoint: s.URL() + pushPath + e.id,
		P256dh:   b64.EncodeToString(ua.PublicKey().Bytes()),
		Auth:     b64.EncodeToString(e.auth),
	}
}

// SetBehaviour replaces the script of an endpoint and restarts it; it
// reports false when id is unknown.
func (s *Server) SetBehaviour(id string, b Behaviour) bool {
	e := s.endpoint(id)
	if e == nil {
		return false
	}
	e.mu.Lock()
	e.behaviour, e.next = b, 0
	e.mu.Unlock()
	return true
}

func (s *Server) endpoint(id string) *endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoints[id]
}

// newP256Key draws a private key; a random 32-byte string is a valid
// scalar except with probability about 2^-32, so the loop ends.
func newP256Key() *ecdh.PrivateKey {
	for {
		if k, err := ecdh.P256().NewPrivateKey(randomBytes(32)); err == nil {
			return k
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand documentation)
	return b
}

// decodeKey reads base64url with or without padding, as senders vary.
func decodeKey(s string) ([]byte, error) {
	if b, err := b64.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

// status is the HTTP status an answer sends.
func (a Answer) status() int {
	if a.Status == 0 {
		return http.StatusCreated
	}
	return a.Status
}
