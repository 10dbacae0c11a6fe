package segrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Config tunes the runtime.
type Config struct {
	Topic       string        // the events topic: read, and written with transitions
	Group       string        // consumer group of the evaluator
	Poll        time.Duration // how often definitions are read from the control plane
	Flush       time.Duration // longest a transition waits before it is produced
	Commit      time.Duration // how often offsets are committed (after producing)
	SinkWait    time.Duration // longest a restore waits for the sink to store the partition
	DedupWindow int           // event ids remembered per partition to drop retried beacons
}

func (c Config) withDefaults() Config {
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Flush <= 0 {
		c.Flush = 10 * time.Millisecond
	}
	if c.Commit <= 0 {
		c.Commit = time.Second
	}
	if c.SinkWait <= 0 {
		c.SinkWait = 30 * time.Second
	}
	if c.DedupWindow <= 0 {
		c.DedupWindow = 100_000
	}
	return c
}

// Producer writes transitions to the events topic; *kafka.Writer is one.
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Deps are the runtime's clients; the caller owns and closes them.
type Deps struct {
	Brokers     []string
	Definitions Definitions
	Store       Store
	Producer    Producer
	Now         func() time.Time // default time.Now
}

// Stats counts what the runtime did.
type Stats struct {
	Events      int64 // events evaluated
	Transitions int64 // transitions produced
	Recognised  int64 // transitions found already produced before a restart, not produced again
}

// Runner is the segment evaluator.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	catalog  *catalog
	store    Store
	producer Producer
	kafka    *partitions
	tail     partitionLog // kafka, or a fake in tests
	now      func() time.Time
	brokers  []string
	stats    struct{ events, transitions, recognised atomic.Int64 }
}

// New returns a runner; it connects to nothing until Run.
func New(cfg Config, deps Deps, log *slog.Logger) *Runner {
	cfg = cfg.withDefaults()
	log = log.With("component", "segments")
	r := &Runner{
		cfg: cfg, log: log, catalog: newCatalog(deps.Definitions, log), store: deps.Store,
		producer: deps.Producer, now: deps.Now, brokers: deps.Brokers,
		kafka: &partitions{brokers: deps.Brokers, topic: cfg.Topic},
	}
	r.tail = r.kafka
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Stats returns the counters; safe while Run runs.
func (r *Runner) Stats() Stats {
	return Stats{Events: r.stats.events.Load(), Transitions: r.stats.transitions.Load(), Recognised: r.stats.recognised.Load()}
}

// Run evaluates until ctx ends. Each consumer-group generation's partitions
// get one owner goroutine each; Run returns after they stopped.
func (r *Runner) Run(ctx context.Context) error {
	for {
		err := r.catalog.refresh(ctx)
		if err == nil {
			break
		}
		r.log.Warn("segment definitions not loaded yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() { defer close(polled); r.catalog.poll(pollCtx, r.cfg.Poll) }()
	defer func() { stopPoll(); <-polled }()

	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: r.cfg.Group, Brokers: r.brokers, Topics: []string{r.cfg.Topic},
		StartOffset: kafka.FirstOffset, HeartbeatInterval: time.Second,
		SessionTimeout: 10 * time.Second, RebalanceTimeout: 10 * time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			r.log.Warn(fmt.Sprintf(msg, args...), "component", "kafka")
		}),
	})
	if err != nil {
		return fmt.Errorf("join segment evaluator group: %w", err)
	}
	defer func() { _ = group.Close() }()
	r.log.Info("segment evaluator starting", "topic", r.cfg.Topic, "group", r.cfg.Group)
	go func() { <-ctx.Done(); _ = group.Close() }()
	for {
		gen, err := group.Next(ctx)
		switch {
		case ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed):
			return nil
		case err != nil:
			r.log.Warn("segment evaluator group: no generation; retrying", "err", err)
			time.Sleep(time.Second)
			continue
		}
		for _, a := range gen.Assignments[r.cfg.Topic] {
			part, offset := a.ID, a.Offset
			gen.Start(func(gctx context.Context) {
				commit := func(next int64) error {
					return gen.CommitOffsets(map[string]map[int]int64{r.cfg.Topic: {part: next}})
				}
				if err := newOwner(r, part).run(gctx, offset, commit); err != nil && gctx.Err() == nil {
					r.log.Error("segment evaluator partition stopped", "partition", part, "err", err)
				}
			})
		}
	}
}
