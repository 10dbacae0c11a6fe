package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// DefaultOrigin is the site the simulated pages live on when Config.Origin is empty.
const DefaultOrigin = "https://shop.example.com"

// Limiter paces sending: WaitN blocks until n more events may go out.
// *rate.Limiter satisfies it.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
}

// Config is one simulation run. Start from DefaultConfig.
type Config struct {
	IngestURL   string  // base URL of ingest, such as http://127.0.0.1:8080
	SiteKey     string  // the site's public key (pps_...)
	Origin      string  // scheme://host of the simulated pages; also sent as the Origin header when set
	Visitors    int     // distinct simulated browsers
	Events      int     // stop after this many events (0: when every visitor is done)
	Rate        float64 // events per second offered (0: as fast as the workers go)
	Batch       int     // at most this many events per beacon
	Invalid     float64 // fraction of events broken on purpose, in [0, 1)
	Concurrency int     // sending workers
	Days        int     // spread client timestamps over this many past days, at most 7 (0: all now)
	Seed        int64   // same seed, same clock (Now): same events

	MaxRetries int           // re-sends of a batch after 429, 5xx or a network error
	RetryBase  time.Duration // first backoff; doubles each attempt, with jitter
	RetryMax   time.Duration // longest wait between attempts, also the cap on Retry-After

	Client  *http.Client     // nil: a client with keep-alive sized for Concurrency
	Limiter Limiter          // nil: a token bucket of Rate events/s, burst Batch (none when Rate is 0)
	Now     func() time.Time // nil: time.Now; fixes generated timestamps and sent_at in tests
}

// DefaultConfig returns the defaults the CLI shows.
func DefaultConfig() Config {
	return Config{
		IngestURL:   "http://127.0.0.1:8080",
		Visitors:    100,
		Batch:       20,
		Concurrency: 8,
		Days:        7,
		MaxRetries:  4,
		RetryBase:   200 * time.Millisecond,
		RetryMax:    5 * time.Second,
	}
}

// ErrConfig marks configuration problems: errors.Is(err, ErrConfig) holds for
// what Validate returns.
var ErrConfig = errors.New("invalid simulate configuration")

// configError lists every problem of a Config, one per line.
type configError struct{ problems []error }

func (e *configError) Error() string        { return errors.Join(e.problems...).Error() }
func (e *configError) Unwrap() []error      { return e.problems }
func (e *configError) Is(target error) bool { return target == ErrConfig }

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(c.IngestURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("ingest URL %q: must be an http(s) URL such as http://127.0.0.1:8080", c.IngestURL)
	}
	if c.SiteKey == "" {
		bad("site key: required (pushpipe site create prints it)")
	}
	if c.Origin != "" {
		if u, err := url.Parse(c.Origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("origin %q: must be scheme://host[:port], such as https://example.com", c.Origin)
		}
	}
	if c.Visitors < 1 {
		bad("visitors: %d, need at least 1", c.Visitors)
	}
	if c.Events < 0 {
		bad("events: %d, must be 0 (no limit) or more", c.Events)
	}
	if c.Rate < 0 {
		bad("rate: %g, must be 0 (unlimited) or more events per second", c.Rate)
	}
	if c.Batch < 1 || c.Batch > schemas.MaxBeaconEvents {
		bad("batch: %d, must be 1 to %d events", c.Batch, schemas.MaxBeaconEvents)
	}
	if !(c.Invalid >= 0 && c.Invalid < 1) {
		bad("invalid: %g, must be a fraction in [0, 1), such as 0.015", c.Invalid)
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		bad("concurrency: %d, must be 1 to 1024", c.Concurrency)
	}
	if c.Days < 0 || c.Days > 7 {
		bad("days: %d, must be 0 to 7 (ingest refuses events older than a week)", c.Days)
	}
	if c.MaxRetries < 0 || c.RetryBase < 0 || c.RetryMax < c.RetryBase {
		bad("retries: need MaxRetries >= 0 and 0 <= RetryBase <= RetryMax")
	}
	if len(errs) > 0 {
		return &configError{problems: errs}
	}
	return nil
}
