package devstack

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
)

// Defaults, in one place.
const (
	DefaultDir            = ".dev"
	DefaultKafkaPort      = 19092
	DefaultClickHousePort = 19000
	DefaultPostgresPort   = 15432
	DefaultPartitions     = 6
	maxPartitions         = 1000
)

// Environment variables read by ConfigFromEnv.
const (
	EnvDir            = "PUSHPIPE_DEV_DIR"
	EnvKafkaPort      = "PUSHPIPE_DEV_KAFKA_PORT"
	EnvClickHousePort = "PUSHPIPE_DEV_CLICKHOUSE_PORT"
	EnvPostgresPort   = "PUSHPIPE_DEV_POSTGRES_PORT"
	EnvPartitions     = "PUSHPIPE_DEV_PARTITIONS"
)

// Environment variables the stack hands to clients (see Stack.Env).
const (
	EnvClientKafka      = "PUSHPIPE_KAFKA"
	EnvClientClickHouse = "PUSHPIPE_CLICKHOUSE"
	EnvClientPostgres   = "PUSHPIPE_POSTGRES"
)

// Config says where the stack lives and which ports it listens on.
// Everything (downloads cache, data, logs, pid files) lives under Dir.
type Config struct {
	// Dir is the state directory; relative paths are resolved against the working directory.
	Dir string
	// KafkaPort is the broker port; the KRaft controller listens on KafkaPort+1.
	KafkaPort      int
	ClickHousePort int
	PostgresPort   int
	// Partitions is the partition count of the topics created at up.
	Partitions int
	// CacheDir holds downloads; empty means Dir/cache. Tests point it at a
	// shared cache so that they do not download half a gigabyte each.
	CacheDir string
	// Progress receives human-readable progress lines (downloads, installs); nil discards them.
	Progress io.Writer
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration used when no environment variable is set.
func DefaultConfig() Config {
	return Config{
		Dir:            DefaultDir,
		KafkaPort:      DefaultKafkaPort,
		ClickHousePort: DefaultClickHousePort,
		PostgresPort:   DefaultPostgresPort,
		Partitions:     DefaultPartitions,
	}
}

// ConfigFromEnv reads the PUSHPIPE_DEV_* variables over the defaults and
// validates the result, reporting every problem at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if v := strings.TrimSpace(getenv(EnvDir)); v != "" {
		cfg.Dir = v
	}
	var errs []error
	ints := []struct {
		name string
		dst  *int
	}{
		{EnvKafkaPort, &cfg.KafkaPort},
		{EnvClickHousePort, &cfg.ClickHousePort},
		{EnvPostgresPort, &cfg.PostgresPort},
		{EnvPartitions, &cfg.Partitions},
	}
	for _, f := range ints {
		if err := parseInt(getenv(f.name), f.dst); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return cfg, nil
}

func parseInt(raw string, dst *int) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return fmt.Errorf("not an integer: %q", raw)
	}
	*dst = n
	return nil
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Dir) == "" {
		errs = append(errs, errors.New("dir: must not be empty"))
	}
	errs = append(errs, checkPort("kafka port", c.KafkaPort, 1)...)
	errs = append(errs, checkPort("clickhouse port", c.ClickHousePort, 0)...)
	errs = append(errs, checkPort("postgres port", c.PostgresPort, 0)...)
	errs = append(errs, c.checkDistinctPorts()...)
	if c.Partitions < 1 || c.Partitions > maxPartitions {
		errs = append(errs, fmt.Errorf("partitions: %d is outside 1..%d", c.Partitions, maxPartitions))
	}
	return errors.Join(errs...)
}

// checkPort checks that port..port+extra are all valid TCP ports.
func checkPort(what string, port, extra int) []error {
	if port < 1 || port+extra > 65535 {
		if extra > 0 {
			return []error{fmt.Errorf("%s: %d is outside 1..%d (port+%d is used too)", what, port, 65535-extra, extra)}
		}
		return []error{fmt.Errorf("%s: %d is outside 1..65535", what, port)}
	}
	return nil
}

func (c Config) checkDistinctPorts() []error {
	used := map[int]string{}
	var errs []error
	for _, p := range []struct {
		name string
		port int
	}{
		{"kafka port", c.KafkaPort},
		{"kafka controller port (kafka port+1)", c.KafkaPort + 1},
		{"clickhouse port", c.ClickHousePort},
		{"postgres port", c.PostgresPort},
	} {
		if other, ok := used[p.port]; ok {
			errs = append(errs, fmt.Errorf("%s: %d is already the %s", p.name, p.port, other))
			continue
		}
		used[p.port] = p.name
	}
	return errs
}

// withDefaults resolves Dir to an absolute path and fills the optional fields.
func (c Config) withDefaults() (Config, error) {
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, fmt.Errorf("resolve dev dir %q: %w", c.Dir, err)
	}
	c.Dir = dir
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(dir, "cache")
	}
	if c.CacheDir, err = filepath.Abs(c.CacheDir); err != nil {
		return c, fmt.Errorf("resolve cache dir: %w", err)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// layout is the set of paths under Dir.
type layout struct {
	dir, cache, bin, logs, run string
}

func newLayout(c Config) layout {
	return layout{
		dir:   c.Dir,
		cache: c.CacheDir,
		bin:   filepath.Join(c.Dir, "bin"),
		logs:  filepath.Join(c.Dir, "logs"),
		run:   filepath.Join(c.Dir, "run"),
	}
}

func (l layout) logFile(svc string) string { return filepath.Join(l.logs, svc+".log") }
func (l layout) pidFile(svc string) string { return filepath.Join(l.run, svc+".pid") }
func (l layout) data(svc string) string    { return filepath.Join(l.dir, svc) }
