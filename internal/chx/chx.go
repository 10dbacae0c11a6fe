// Package chx opens ClickHouse connections (native protocol, clickhouse-go/v2)
// with Pushpipe's defaults. It knows nothing of tables.
package chx

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// pingWait is how long Open keeps trying a server that does not answer yet:
// one that is starting or restarting (a role started together with its
// database, or the dev engine restarted by its supervisor).
const pingWait = 30 * time.Second

// Open connects to dsn (clickhouse://host:port/database?...) and pings it,
// retrying for up to 30 s.
func Open(ctx context.Context, dsn string) (driver.Conn, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse dsn: %w", err)
	}
	if opts.DialTimeout == 0 || opts.DialTimeout == 30*time.Second {
		opts.DialTimeout = 5 * time.Second
	}
	opts.MaxOpenConns = max(opts.MaxOpenConns, 8)
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse: %w", err)
	}
	if err := ping(ctx, conn); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ping clickhouse at %s for %s: %w (is it running? try 'make dev-up')", opts.Addr, pingWait, err)
	}
	return conn, nil
}

func ping(ctx context.Context, conn driver.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, pingWait)
	defer cancel()
	for {
		err := conn.Ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}
