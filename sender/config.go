package sender

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
)

// Config is the sender role's configuration. Kafka brokers, Postgres and
// the master key come from the common configuration, through Deps.
type Config struct {
	Group       string        // PUSHPIPE_SENDER_GROUP: consumer group on the push-requests topic
	Concurrency int           // PUSHPIPE_SENDER_CONCURRENCY: push requests in flight at most
	Timeout     time.Duration // PUSHPIPE_SENDER_TIMEOUT: one HTTP attempt, connection to answer
	// RecordSize (PUSHPIPE_SENDER_RECORD_SIZE) is the aes128gcm record size
	// a payload is padded up to. 0: no padding, the body is the smallest
	// that holds the payload (payload + 103 bytes). webpush-go pads every
	// message to 4096 bytes by default, which costs bandwidth and exceeds
	// what some push services accept.
	RecordSize int
	// HostRate (PUSHPIPE_SENDER_HOST_RATE) caps the attempts per second to
	// one push-service host, a token bucket with a burst of one second's
	// worth; 0 means no cap. Push services throttle senders that burst
	// (429); pacing avoids it and keeps one host from taking every slot.
	HostRate float64

	// Stock sends every push with webpush.SendNotificationWithContext,
	// which signs a VAPID token per message, instead of the equivalent path
	// that signs once per site and origin every few hours (not an env key:
	// for comparisons and benchmarks).
	Stock bool

	RetryBase    time.Duration // first retry backoff, doubled per attempt (not an env key)
	RetryMax     time.Duration // longest backoff between attempts (not an env key)
	DrainTimeout time.Duration // how long Run finishes in-flight requests after its context ended (not an env key)
}

// Defaults.
const (
	DefaultGroup        = "pushpipe-sender"
	DefaultConcurrency  = 64
	DefaultTimeout      = 10 * time.Second
	DefaultRetryBase    = time.Second
	DefaultRetryMax     = 5 * time.Minute
	DefaultDrainTimeout = 15 * time.Second
	DefaultHostRate     = 2000.0
)

// Limits that Validate enforces.
const (
	maxConcurrency = 10_000
	minRecordSize  = 128 // below this a notification hardly fits
	// MaxBody is the largest encrypted body a push service must accept (RFC 8030 §7.2).
	MaxBody = 4096
	// overhead is what aes128gcm adds to a payload in one record: the
	// header (16 salt, 4 rs, 1 idlen, 65 key), the padding delimiter and the 16-byte tag.
	overhead = 16 + 4 + 1 + 65 + 1 + 16
)

// LoadConfig reads the sender keys from r; r collects unparsable values.
func LoadConfig(r *config.Reader) Config {
	return Config{
		Group:        r.String("PUSHPIPE_SENDER_GROUP", DefaultGroup),
		Concurrency:  r.Int("PUSHPIPE_SENDER_CONCURRENCY", DefaultConcurrency),
		Timeout:      r.Duration("PUSHPIPE_SENDER_TIMEOUT", DefaultTimeout),
		RecordSize:   r.Int("PUSHPIPE_SENDER_RECORD_SIZE", 0),
		HostRate:     float64(r.Int("PUSHPIPE_SENDER_HOST_RATE", DefaultHostRate)),
		RetryBase:    DefaultRetryBase,
		RetryMax:     DefaultRetryMax,
		DrainTimeout: DefaultDrainTimeout,
	}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Group) == "" {
		errs = append(errs, errors.New("PUSHPIPE_SENDER_GROUP: must not be empty"))
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SENDER_CONCURRENCY: %d is out of range 1..%d", c.Concurrency, maxConcurrency))
	}
	if c.Timeout <= 0 || c.Timeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SENDER_TIMEOUT: %s is out of range (0s, 5m]", c.Timeout))
	}
	if c.RecordSize != 0 && (c.RecordSize < minRecordSize || c.RecordSize > MaxBody) {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SENDER_RECORD_SIZE: %d is neither 0 (no padding) nor in range %d..%d",
			c.RecordSize, minRecordSize, MaxBody))
	}
	if c.HostRate < 0 {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SENDER_HOST_RATE: %g must be 0 (no cap) or more attempts per second", c.HostRate))
	}
	if c.RetryBase <= 0 || c.RetryMax < c.RetryBase {
		errs = append(errs, fmt.Errorf("retry backoff: base %s and max %s must be positive, max >= base", c.RetryBase, c.RetryMax))
	}
	if c.DrainTimeout <= 0 {
		errs = append(errs, fmt.Errorf("drain timeout: %s must be positive", c.DrainTimeout))
	}
	return errors.Join(errs...)
}

// recordSize is the webpush-go RecordSize for a payload of n bytes: with
// one record, webpush-go's body is exactly RecordSize bytes, so this is the
// body size too. It pads up to c.RecordSize, never below what n needs.
func (c Config) recordSize(n int) int {
	return max(n+overhead, c.RecordSize)
}
