package dashboardapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/api"
	"github.com/pushpipe/pushpipe/internal/config"
)

// Environment keys of the api role.
const (
	EnvAddr            = "PUSHPIPE_API_ADDR"
	EnvQueryTimeout    = "PUSHPIPE_API_QUERY_TIMEOUT"
	EnvShutdownTimeout = "PUSHPIPE_API_SHUTDOWN_TIMEOUT"

	EnvSessionTTL        = "PUSHPIPE_API_SESSION_TTL"
	EnvInsecureCookies   = "PUSHPIPE_API_INSECURE_COOKIES"
	EnvPublicURL         = "PUSHPIPE_API_PUBLIC_URL"
	EnvIngestURL         = "PUSHPIPE_API_INGEST_URL"
	EnvRatePerMinute     = "PUSHPIPE_API_RATE_PER_MINUTE"
	EnvRateBurst         = "PUSHPIPE_API_RATE_BURST"
	EnvAuthRatePerMinute = "PUSHPIPE_API_AUTH_RATE_PER_MINUTE"
	EnvAuthRateBurst     = "PUSHPIPE_API_AUTH_RATE_BURST"
)

// Config is the api role's configuration.
type Config struct {
	Addr            string        // listen address (PUSHPIPE_API_ADDR)
	QueryTimeout    time.Duration // bound on one request's ClickHouse queries (PUSHPIPE_API_QUERY_TIMEOUT)
	ShutdownTimeout time.Duration // graceful drain budget in Run (PUSHPIPE_API_SHUTDOWN_TIMEOUT)

	SessionTTL        time.Duration // how long a web log-in lasts (PUSHPIPE_API_SESSION_TTL)
	InsecureCookies   bool          // drop the Secure flag of cookies: plain-HTTP development only (PUSHPIPE_API_INSECURE_COOKIES)
	PublicURL         string        // the dashboard's address, for links in logged e-mails (PUSHPIPE_API_PUBLIC_URL)
	IngestURL         string        // ingest's public address, for the SDK snippet (PUSHPIPE_API_INGEST_URL)
	RatePerMinute     int           // requests a minute per API key or account; 0: no limit (PUSHPIPE_API_RATE_PER_MINUTE)
	RateBurst         int           // requests at once above that rate (PUSHPIPE_API_RATE_BURST)
	AuthRatePerMinute int           // sign-up, log-in and reset requests a minute per client address; 0: no limit (PUSHPIPE_API_AUTH_RATE_PER_MINUTE)
	AuthRateBurst     int           // (PUSHPIPE_API_AUTH_RATE_BURST)
}

// Defaults returns the configuration used for every key that is not set.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8081",
		QueryTimeout:    30 * time.Second,
		ShutdownTimeout: 10 * time.Second,

		SessionTTL:        12 * time.Hour,
		PublicURL:         "http://127.0.0.1:8081",
		IngestURL:         "http://127.0.0.1:8080",
		RatePerMinute:     6000,
		RateBurst:         600,
		AuthRatePerMinute: 20,
		AuthRateBurst:     10,
	}
}

// LoadConfig reads the api keys from r; r records malformed values.
func LoadConfig(r *config.Reader) Config {
	d := Defaults()
	return Config{
		Addr:            r.String(EnvAddr, d.Addr),
		QueryTimeout:    r.Duration(EnvQueryTimeout, d.QueryTimeout),
		ShutdownTimeout: r.Duration(EnvShutdownTimeout, d.ShutdownTimeout),

		SessionTTL:        r.Duration(EnvSessionTTL, d.SessionTTL),
		InsecureCookies:   r.Bool(EnvInsecureCookies, d.InsecureCookies),
		PublicURL:         strings.TrimRight(r.String(EnvPublicURL, d.PublicURL), "/"),
		IngestURL:         strings.TrimRight(r.String(EnvIngestURL, d.IngestURL), "/"),
		RatePerMinute:     r.Int(EnvRatePerMinute, d.RatePerMinute),
		RateBurst:         r.Int(EnvRateBurst, d.RateBurst),
		AuthRatePerMinute: r.Int(EnvAuthRatePerMinute, d.AuthRatePerMinute),
		AuthRateBurst:     r.Int(EnvAuthRateBurst, d.AuthRateBurst),
	}
}

// auth is the part of c the HTTP layer's accounts and rate limits use.
func (c Config) auth() api.AuthConfig {
	return api.AuthConfig{
		SessionTTL: c.SessionTTL, InsecureCookies: c.InsecureCookies, PublicURL: c.PublicURL, IngestURL: c.IngestURL,
		RatePerMinute: c.RatePerMinute, RateBurst: c.RateBurst,
		AuthRatePerMinute: c.AuthRatePerMinute, AuthRateBurst: c.AuthRateBurst,
	}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		add(EnvAddr, "%q is not host:port (such as 127.0.0.1:8081 or :8081)", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add(EnvAddr, "%q has no valid port", c.Addr)
	}
	if c.QueryTimeout < 100*time.Millisecond || c.QueryTimeout > 10*time.Minute {
		add(EnvQueryTimeout, "%s is out of range: 100ms to 10m", c.QueryTimeout)
	}
	if c.ShutdownTimeout < 0 || c.ShutdownTimeout > 10*time.Minute {
		add(EnvShutdownTimeout, "%s is out of range: 0 to 10m", c.ShutdownTimeout)
	}
	errs = append(errs, c.validateAuth()...)
	return errors.Join(errs...)
}

// validateAuth reports the problems of the accounts and rate-limit keys.
func (c Config) validateAuth() []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		add(EnvSessionTTL, "%s is out of range: 1m to 720h", c.SessionTTL)
	}
	for key, v := range map[string]string{EnvPublicURL: c.PublicURL, EnvIngestURL: c.IngestURL} {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(key, "%q is not an http(s) URL such as https://push.example.com", v)
		}
	}
	for key, v := range map[string]int{
		EnvRatePerMinute: c.RatePerMinute, EnvRateBurst: c.RateBurst,
		EnvAuthRatePerMinute: c.AuthRatePerMinute, EnvAuthRateBurst: c.AuthRateBurst,
	} {
		if v < 0 || v > 1_000_000 {
			add(key, "%d is out of range: 0 to 1000000", v)
		}
	}
	if c.RatePerMinute > 0 && c.RateBurst < 1 {
		add(EnvRateBurst, "must be at least 1 when %s is set", EnvRatePerMinute)
	}
	if c.AuthRatePerMinute > 0 && c.AuthRateBurst < 1 {
		add(EnvAuthRateBurst, "must be at least 1 when %s is set", EnvAuthRatePerMinute)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}
