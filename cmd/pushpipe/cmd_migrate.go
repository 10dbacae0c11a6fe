package main

import (
	"context"
	"fmt"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/migrate"
)

func cmdMigrate(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(e.stderr, "usage: pushpipe migrate (takes no arguments; configure with PUSHPIPE_POSTGRES and PUSHPIPE_CLICKHOUSE)")
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	if !finish(r, e, "migrate") {
		return 2
	}
	log := c.logger(e.stderr, "migrate")
	db, err := c.openPostgres(ctx)
	if err != nil {
		return fail(e, "migrate", err)
	}
	defer db.Close()
	ch, err := c.openClickHouse(ctx)
	if err != nil {
		return fail(e, "migrate", err)
	}
	defer func() { _ = ch.Close() }()
	if err := migrate.All(ctx, db, ch, log); err != nil {
		return fail(e, "migrate", err)
	}
	fmt.Fprintln(e.stdout, "migrate: Postgres and ClickHouse are up to date")
	return 0
}
