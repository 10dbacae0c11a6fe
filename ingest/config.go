package ingest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/ingest/internal/enrich"
	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/schemas"
)

// Environment keys of the ingest role.
const (
	EnvAddr           = "PUSHPIPE_INGEST_ADDR"
	EnvMaxBody        = "PUSHPIPE_INGEST_MAX_BODY"
	EnvTrustedProxies = "PUSHPIPE_INGEST_TRUSTED_PROXIES"
	EnvGeoIPDB        = "PUSHPIPE_GEOIP_DB"
	EnvBatchTimeout   = "PUSHPIPE_INGEST_BATCH_TIMEOUT"
	EnvSpoolDir       = "PUSHPIPE_INGEST_SPOOL_DIR"
	EnvSpoolMaxBytes  = "PUSHPIPE_INGEST_SPOOL_MAX_BYTES"
)

// Config is the ingest role's configuration.
type Config struct {
	Addr           string        // listen address (PUSHPIPE_INGEST_ADDR)
	MaxBody        int64         // largest beacon body in bytes (PUSHPIPE_INGEST_MAX_BODY)
	TrustedProxies []string      // CIDRs or addresses whose X-Forwarded-For is believed (PUSHPIPE_INGEST_TRUSTED_PROXIES)
	GeoIPDB        string        // MaxMind City .mmdb file; empty: no location (PUSHPIPE_GEOIP_DB)
	BatchTimeout   time.Duration // Kafka writer batch timeout (PUSHPIPE_INGEST_BATCH_TIMEOUT)
	Topic          string        // the events topic (PUSHPIPE_EVENTS_TOPIC, default schemas.TopicEvents)
	// SpoolDir holds the disk spools of events Kafka did not acknowledge, one
	// subdirectory per listen address (see SpoolPath) (PUSHPIPE_INGEST_SPOOL_DIR).
	SpoolDir string
	// SpoolMaxBytes caps one spool; 0 turns spooling off, so a Kafka outage
	// is answered 503 at once (PUSHPIPE_INGEST_SPOOL_MAX_BYTES).
	SpoolMaxBytes int64

	// ShutdownTimeout bounds the graceful drain in Run; not read from the environment.
	ShutdownTimeout time.Duration
}

// Limits checked by Validate.
const (
	maxMaxBody      = 64 << 20
	maxBatchTimeout = time.Second
)

// Defaults returns the configuration used for every key that is not set.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		MaxBody:         schemas.MaxBeaconBytes,
		BatchTimeout:    2 * time.Millisecond,
		Topic:           schemas.TopicEvents,
		SpoolDir:        filepath.Join(".dev", "spool-ingest"),
		SpoolMaxBytes:   256 << 20,
		ShutdownTimeout: 15 * time.Second,
	}
}

// LoadConfig reads the ingest keys from r; r records malformed values.
func LoadConfig(r *config.Reader) Config {
	d := Defaults()
	return Config{
		Addr:            r.String(EnvAddr, d.Addr),
		MaxBody:         int64(r.Int(EnvMaxBody, int(d.MaxBody))),
		TrustedProxies:  r.List(EnvTrustedProxies, d.TrustedProxies),
		GeoIPDB:         r.String(EnvGeoIPDB, d.GeoIPDB),
		BatchTimeout:    r.Duration(EnvBatchTimeout, d.BatchTimeout),
		Topic:           r.String(config.EnvEventsTopic, d.Topic),
		SpoolDir:        r.String(EnvSpoolDir, d.SpoolDir),
		SpoolMaxBytes:   int64(r.Int(EnvSpoolMaxBytes, int(d.SpoolMaxBytes))),
		ShutdownTimeout: d.ShutdownTimeout,
	}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		add(EnvAddr, "%q is not host:port (such as 127.0.0.1:8080 or :8080)", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add(EnvAddr, "%q has no valid port", c.Addr)
	}
	if c.MaxBody < 1 || c.MaxBody > maxMaxBody {
		add(EnvMaxBody, "%d is out of range: 1 to %d bytes", c.MaxBody, maxMaxBody)
	}
	if _, err := enrich.ParseProxies(c.TrustedProxies); err != nil {
		for _, e := range unjoin(err) {
			add(EnvTrustedProxies, "%v", e)
		}
	}
	if c.GeoIPDB != "" {
		if fi, err := os.Stat(c.GeoIPDB); err != nil {
			add(EnvGeoIPDB, "cannot read %s: %v", c.GeoIPDB, err)
		} else if !fi.Mode().IsRegular() {
			add(EnvGeoIPDB, "%s is not a file (a MaxMind City .mmdb is expected)", c.GeoIPDB)
		}
	}
	if strings.TrimSpace(c.Topic) == "" {
		add(config.EnvEventsTopic, "must not be empty")
	}
	if c.BatchTimeout <= 0 || c.BatchTimeout > maxBatchTimeout {
		add(EnvBatchTimeout, "%s is out of range: more than 0 and at most %s (every request waits for it)", c.BatchTimeout, maxBatchTimeout)
	}
	if c.SpoolMaxBytes < 0 {
		add(EnvSpoolMaxBytes, "%d is negative (0 turns the spool off)", c.SpoolMaxBytes)
	}
	if c.SpoolMaxBytes > 0 && strings.TrimSpace(c.SpoolDir) == "" {
		add(EnvSpoolDir, "must not be empty while %s is above 0", EnvSpoolMaxBytes)
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout must be positive, got %s", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// unjoin splits what errors.Join joined.
func unjoin(err error) []error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return joined.Unwrap()
	}
	return []error{err}
}

// SpoolPath is the directory of this instance's spool: the subdirectory
// of SpoolDir named after the listen address ("127.0.0.1_8080"), so several
// ingest processes on one machine never share a spool, and one restarted on
// the same address finds the events its predecessor left.
func (c Config) SpoolPath() string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, c.Addr)
	return filepath.Join(c.SpoolDir, safe)
}

// WriterConfig is the Kafka producer configuration ingest needs: the events
// topic and the configured batch timeout. Build the producer
// with kafkax.NewWriter(cfg.WriterConfig(brokers), log).
func (c Config) WriterConfig(brokers []string) kafkax.WriterConfig {
	return kafkax.WriterConfig{Brokers: brokers, Topic: c.Topic, BatchTimeout: c.BatchTimeout}
}
