package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pushpipe/pushpipe/internal/chx"
	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/pg"
)

// common is the configuration every role shares: where the real parts are, and logging.
type common struct {
	Kafka      []string
	ClickHouse string
	Postgres   string
	MasterKey  string
	LogFormat  string
	LogLevel   string
}

func loadCommon(r *config.Reader) common {
	return common{
		Kafka:      r.List("PUSHPIPE_KAFKA", []string{"127.0.0.1:19092"}),
		ClickHouse: r.String("PUSHPIPE_CLICKHOUSE", "clickhouse://127.0.0.1:19000/default"),
		Postgres:   r.String("PUSHPIPE_POSTGRES", "postgres://pushpipe@127.0.0.1:15432/pushpipe?sslmode=disable"),
		MasterKey:  r.String("PUSHPIPE_MASTER_KEY", ""),
		LogFormat:  r.String("PUSHPIPE_LOG_FORMAT", "text"),
		LogLevel:   r.String("PUSHPIPE_LOG_LEVEL", "info"),
	}
}

// finish reports every configuration problem at once: those r found, the
// extra ones (such as a role's Validate), and PUSHPIPE_* variables that no
// role reads. One environment may configure every role (an env file, a
// compose file), so a key of another role is not unknown.
func finish(r *config.Reader, e *env, cmd string, extra ...error) bool {
	all := config.NewReader(e.getenv)
	loadAllConfigs(all)
	r.Known(all.Keys()...)
	err := errors.Join(append([]error{r.Err(e.environ)}, extra...)...)
	if err == nil {
		return true
	}
	fmt.Fprintf(e.stderr, "pushpipe %s: configuration problems:\n", cmd)
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(e.stderr, "  - %s\n", line)
	}
	return false
}

// logger builds the process logger: JSON outside development, fixed keys.
func (c common) logger(w io.Writer, role string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(h).With("role", role)
}

func (c common) openPostgres(ctx context.Context) (*pgxpool.Pool, error) {
	return pg.Open(ctx, c.Postgres)
}

func (c common) openClickHouse(ctx context.Context) (driver.Conn, error) {
	return chx.Open(ctx, c.ClickHouse)
}

// masterKey parses PUSHPIPE_MASTER_KEY, explaining how to make one when it is missing.
func (c common) masterKey() (*controlplane.MasterKey, error) {
	if c.MasterKey == "" {
		return nil, errors.New(masterKeyHelp)
	}
	key, err := controlplane.ParseMasterKey(c.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("PUSHPIPE_MASTER_KEY: %w", err)
	}
	return key, nil
}

// masterKeyHelp says what the master key is for and how to make one.
const masterKeyHelp = `PUSHPIPE_MASTER_KEY is not set. It encrypts every site's VAPID private key at rest,
and every role that sends pushes needs the same key. Generate one once and keep it safe:
    export PUSHPIPE_MASTER_KEY="$(head -c32 /dev/urandom | base64)"`

// fail prints err for a human and returns exit code 1.
func fail(e *env, role string, err error) int {
	fmt.Fprintf(e.stderr, "pushpipe %s: %v\n", role, err)
	return 1
}
