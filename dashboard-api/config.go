package dashboardapi

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
)

// Environment keys of the api role.
const (
	EnvAddr            = "PUSHPIPE_API_ADDR"
	EnvQueryTimeout    = "PUSHPIPE_API_QUERY_TIMEOUT"
	EnvShutdownTimeout = "PUSHPIPE_API_SHUTDOWN_TIMEOUT"
)

// Config is the api role's configuration.
type Config struct {
	Addr            string        // listen address (PUSHPIPE_API_ADDR)
	QueryTimeout    time.Duration // bound on one request's ClickHouse queries (PUSHPIPE_API_QUERY_TIMEOUT)
	ShutdownTimeout time.Duration // graceful drain budget in Run (PUSHPIPE_API_SHUTDOWN_TIMEOUT)
}

// Defaults returns the configuration used for every key that is not set.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8081",
		QueryTimeout:    30 * time.Second,
		ShutdownTimeout: 10 * time.Second,
	}
}

// LoadConfig reads the api keys from r; r records malformed values.
func LoadConfig(r *config.Reader) Config {
	d := Defaults()
	return Config{
		Addr:            r.String(EnvAddr, d.Addr),
		QueryTimeout:    r.Duration(EnvQueryTimeout, d.QueryTimeout),
		ShutdownTimeout: r.Duration(EnvShutdownTimeout, d.ShutdownTimeout),
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
	return errors.Join(errs...)
}
