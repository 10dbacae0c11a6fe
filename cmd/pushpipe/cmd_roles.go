package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	dashboardapi "github.com/pushpipe/pushpipe/dashboard-api"
	"github.com/pushpipe/pushpipe/ingest"
	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/devstack"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/migrate"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/stream"
)

// runner is a built role: it serves until ctx ends, then drains and closes
// what it owns.
type runner interface {
	Run(ctx context.Context) error
}

// roleSpec is one role's configuration, read but not yet acted on.
type roleSpec struct {
	validate func() error
	// build opens what the role needs and returns it ready to run; cleanup
	// closes what Run does not close itself.
	build func(ctx context.Context, c common, log *slog.Logger) (r runner, cleanup func(), err error)
}

// roles maps each long-running role to the function reading its configuration.
var roles = map[string]func(r *config.Reader) roleSpec{
	"ingest": ingestRole,
	"stream": streamRole,
	"api":    apiRole,
	"sender": senderRole,
}

// allRoles is the order `pushpipe all` starts them in.
var allRoles = []string{"stream", "sender", "ingest", "api"}

// loadAllConfigs reads every role's settings, so the reader knows every key
// (the dev stack's too, which `pushpipe dev` reads on its own).
func loadAllConfigs(r *config.Reader) {
	loadCommon(r)
	r.Known(devstack.EnvDir, devstack.EnvKafkaPort, devstack.EnvClickHousePort, devstack.EnvPostgresPort, devstack.EnvPartitions)
	for _, name := range allRoles {
		roles[name](r)
	}
}

func ingestRole(r *config.Reader) roleSpec {
	cfg := ingest.LoadConfig(r)
	return roleSpec{validate: cfg.Validate, build: func(ctx context.Context, c common, log *slog.Logger) (runner, func(), error) {
		db, err := c.openPostgres(ctx)
		if err != nil {
			return nil, nil, err
		}
		svc, err := ingest.New(cfg, ingest.Deps{
			Sites:    controlplane.NewStore(db, nil),
			Producer: kafkax.NewWriter(cfg.WriterConfig(c.Kafka), log), // closed by svc.Run
			Ready:    ingestReady(db, c.Kafka),
		}, log)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return svc, db.Close, nil
	}}
}

func streamRole(r *config.Reader) roleSpec {
	cfg := stream.LoadConfig(r)
	return roleSpec{validate: cfg.Validate, build: func(ctx context.Context, c common, log *slog.Logger) (runner, func(), error) {
		db, err := c.openPostgres(ctx)
		if err != nil {
			return nil, nil, err
		}
		ch, err := c.openClickHouse(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		store := controlplane.NewStore(db, nil)
		deps := stream.Deps{ClickHouse: ch, Brokers: c.Kafka, Segments: store, Automations: store, Postgres: db}
		svc, err := stream.New(cfg, deps, log) // svc.Run closes ch
		if err != nil {
			_ = ch.Close()
			db.Close()
			return nil, nil, err
		}
		return svc, db.Close, nil
	}}
}

func apiRole(r *config.Reader) roleSpec {
	cfg := dashboardapi.LoadConfig(r)
	eventsTopic := r.String(config.EnvEventsTopic, schemas.TopicEvents) // where an erasure tells the stream role
	return roleSpec{validate: cfg.Validate, build: func(ctx context.Context, c common, log *slog.Logger) (runner, func(), error) {
		db, err := c.openPostgres(ctx)
		if err != nil {
			return nil, nil, err
		}
		ch, err := c.openClickHouse(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		events := kafkax.NewWriter(kafkax.WriterConfig{Brokers: c.Kafka, Topic: eventsTopic}, log)
		cleanup := func() { _ = events.Close(); _ = ch.Close(); db.Close() }
		var key *controlplane.MasterKey // creating sites seals their VAPID keys; without it that is refused
		if c.MasterKey != "" {
			if key, err = c.masterKey(); err != nil {
				cleanup()
				return nil, nil, err
			}
		}
		store := controlplane.NewStore(db, key)
		svc, err := dashboardapi.New(cfg, dashboardapi.Deps{
			Keys:        store,
			Accounts:    store,
			Stats:       dashboardapi.NewClickHouseStats(ch),
			Segments:    store,
			SegmentData: dashboardapi.NewClickHouseSegmentData(ch),
			// automations, campaigns, settings, reports and backtests
			Automations: store, Campaigns: store, Settings: store,
			Reports: dashboardapi.NewClickHouseReports(ch), BacktestEvents: dashboardapi.NewClickHouseBacktestEvents(ch),
			Privacy: dashboardapi.NewPrivacy(db, ch, events, log),
		}, log)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		return svc, cleanup, nil
	}}
}

// ingestReady checks that Postgres answers and a Kafka broker accepts connections.
func ingestReady(db *pgxpool.Pool, brokers []string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := db.Ping(ctx); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		var errs []error
		for _, b := range brokers {
			conn, err := (&kafka.Dialer{}).DialContext(ctx, "tcp", b)
			if err == nil {
				_ = conn.Close()
				return nil // one reachable broker is enough
			}
			errs = append(errs, fmt.Errorf("kafka %s: %w", b, err))
		}
		return errors.Join(errs...)
	}
}

// prepare is what a role may do before it starts, for installs without the dev stack.
type prepare struct {
	migrate      bool
	createTopics bool
	partitions   int
}

func cmdIngest(ctx context.Context, e *env, args []string) int {
	return runRoleCmd(ctx, e, "ingest", args)
}

func cmdStream(ctx context.Context, e *env, args []string) int {
	return runRoleCmd(ctx, e, "stream", args)
}

func cmdAPI(ctx context.Context, e *env, args []string) int { return runRoleCmd(ctx, e, "api", args) }

func cmdSender(ctx context.Context, e *env, args []string) int {
	return runRoleCmd(ctx, e, "sender", args)
}

// cmdAll runs every role in one process; they share nothing but Kafka and the databases.
func cmdAll(ctx context.Context, e *env, args []string) int {
	return runRoleCmd(ctx, e, "all", args, allRoles...)
}

// runRoleCmd parses the shared role flags, then runs the named roles (the
// command's own name when none are given).
func runRoleCmd(ctx context.Context, e *env, cmd string, args []string, names ...string) int {
	var p prepare
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.BoolVar(&p.migrate, "migrate", false, "apply Postgres and ClickHouse migrations before starting")
	fs.BoolVar(&p.createTopics, "create-topics", false, "create missing Kafka topics before starting")
	fs.IntVar(&p.partitions, "partitions", 6, "partitions of topics created by --create-topics")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pushpipe %s: unexpected arguments %q (configure roles with PUSHPIPE_* variables; see README.md)\n", cmd, fs.Args())
		return 2
	}
	if len(names) == 0 {
		names = []string{cmd}
	}
	return runRoles(ctx, e, cmd, p, names)
}

// runRoles reads and checks every setting of the roles (reporting all
// problems at once), builds them, and runs them until ctx ends or one fails.
func runRoles(ctx context.Context, e *env, cmd string, p prepare, names []string) int {
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	specs := make([]roleSpec, len(names))
	for i, n := range names {
		specs[i] = roles[n](r)
	}
	errs := make([]error, 0, len(specs))
	for _, s := range specs {
		errs = append(errs, s.validate())
	}
	if !finish(r, e, cmd, errs...) {
		return 2
	}
	if err := p.run(ctx, c, c.logger(e.stderr, cmd)); err != nil {
		return fail(e, cmd, err)
	}
	runs := make([]runner, 0, len(specs))
	for i, s := range specs {
		run, cleanup, err := s.build(ctx, c, c.logger(e.stderr, names[i]))
		if err != nil {
			return fail(e, cmd, fmt.Errorf("start %s: %w", names[i], err))
		}
		defer cleanup() // after every role's Run has returned (g.Wait below)
		runs = append(runs, run)
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, run := range runs {
		g.Go(func() error {
			if err := run.Run(gctx); err != nil {
				return fmt.Errorf("%s: %w", names[i], err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fail(e, cmd, err)
	}
	return 0
}

func (p prepare) run(ctx context.Context, c common, log *slog.Logger) error {
	if p.createTopics {
		if _, err := kafkax.EnsureTopics(ctx, c.Kafka, p.partitions, 1, schemas.Topics()...); err != nil {
			return err
		}
	}
	if !p.migrate {
		return nil
	}
	db, err := c.openPostgres(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ch, err := c.openClickHouse(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	return migrate.All(ctx, db, ch, log)
}
