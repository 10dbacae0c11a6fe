package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Config tunes the loop. Zero values take the defaults noted.
type Config struct {
	BatchSize      int           // rows per partition batch before an insert; default 5000
	BatchInterval  time.Duration // longest a handled message waits for its insert and commit; default 500ms
	DrainTimeout   time.Duration // how long Run keeps flushing after its context ended; default 10s
	AttemptTimeout time.Duration // bound of one insert, commit, watermark read or DLQ write; default 30s
	RetryMin       time.Duration // first delay after a failed attempt; default 100ms
	RetryMax       time.Duration // cap of the doubling delay; default 10s
	DedupWindow    int           // recent event ids remembered per partition; default DefaultDedupWindow
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.DedupWindow <= 0 {
		c.DedupWindow = DefaultDedupWindow
	}
	def(&c.BatchInterval, 500*time.Millisecond)
	def(&c.DrainTimeout, 10*time.Second)
	def(&c.AttemptTimeout, 30*time.Second)
	def(&c.RetryMin, 100*time.Millisecond)
	def(&c.RetryMax, 10*time.Second)
	c.RetryMax = max(c.RetryMax, c.RetryMin)
	return c
}

// fetchQueue bounds the messages fetched ahead of the loop; when the loop
// blocks on a failing insert, the fetcher blocks on this queue (back-pressure).
const fetchQueue = 256

// Stats counts what the sink did since New.
type Stats struct {
	Inserted     int64 // rows inserted into events (an insert deduplicated by ClickHouse counts too)
	Batches      int64 // successful inserts
	DeadLettered int64 // undecodable messages written to the dead-letter topic
	Skipped      int64 // messages at or below the replay watermark: already stored
	Duplicates   int64 // events whose id was stored or buffered within the dedup window: a retried beacon
}

type counters struct {
	inserted, batches, deadLettered, skipped, duplicates atomic.Int64
}

// Sink copies decoded events from a Consumer into a Store, one batch per partition.
type Sink struct {
	cfg      Config
	consumer Consumer
	dlq      DeadLetters
	store    Store
	log      *slog.Logger
	parts    map[partKey]*partition // touched only by the loop goroutine
	stats    counters
}

// New returns a sink; it starts nothing until Run.
func New(cfg Config, consumer Consumer, dlq DeadLetters, store Store, log *slog.Logger) *Sink {
	return &Sink{
		cfg:      cfg.withDefaults(),
		consumer: consumer,
		dlq:      dlq,
		store:    store,
		log:      log.With("component", "sink"),
		parts:    map[partKey]*partition{},
	}
}

// Stats returns the counters; safe to call from any goroutine.
func (s *Sink) Stats() Stats {
	return Stats{
		Inserted:     s.stats.inserted.Load(),
		Batches:      s.stats.batches.Load(),
		DeadLettered: s.stats.deadLettered.Load(),
		Skipped:      s.stats.skipped.Load(),
		Duplicates:   s.stats.duplicates.Load(),
	}
}

// Run consumes until ctx ends, then drains: it handles what was already
// fetched, inserts every buffered batch and commits, within
// Config.DrainTimeout. It returns nil after a complete drain. The caller
// closes the consumer, the dead-letter writer and the store afterwards.
func (s *Sink) Run(ctx context.Context) error {
	work, cancelWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelWork(nil)
	stopBudget := context.AfterFunc(ctx, func() {
		time.AfterFunc(s.cfg.DrainTimeout, func() { cancelWork(ErrDrainBudget) })
	})
	defer stopBudget()

	fetchCtx, stopFetch := context.WithCancel(ctx)
	msgs := make(chan kafka.Message, fetchQueue)
	var fetchErr error
	var wg sync.WaitGroup
	wg.Go(func() { fetchErr = s.fetch(fetchCtx, msgs) })

	s.log.Info("sink started", "batch_size", s.cfg.BatchSize, "batch_interval", s.cfg.BatchInterval)
	err := s.consume(work, msgs)
	stopFetch()
	wg.Wait()
	if err == nil {
		err = s.flushAll(work)
	}
	err = errors.Join(err, fetchErr)
	st := s.Stats()
	s.log.Info("sink stopped", "inserted", st.Inserted, "batches", st.Batches,
		"dead_lettered", st.DeadLettered, "skipped", st.Skipped, "err", err)
	return err
}

// fetch feeds out until ctx ends or the consumer is closed, then closes out.
// Fetch errors are retried with backoff: kafka-go recovers from broker loss.
func (s *Sink) fetch(ctx context.Context, out chan<- kafka.Message) error {
	defer close(out)
	b := newBackoff(s.cfg.RetryMin, s.cfg.RetryMax)
	failures := 0
	for {
		m, err := s.consumer.FetchMessage(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			return ErrConsumerClosed
		case err != nil:
			failures++
			s.logFailure("fetch", failures, err, nil)
			if !b.wait(ctx) {
				return nil
			}
			continue
		}
		if failures > 0 {
			s.log.Info("fetch succeeded after retries", "attempts", failures+1)
			failures = 0
			b.reset()
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return nil
		}
	}
}

// consume handles messages and flushes batches that reached their age until
// in is closed. It returns an error only when work ended (drain budget).
func (s *Sink) consume(work context.Context, in <-chan kafka.Message) error {
	tick := time.NewTicker(max(s.cfg.BatchInterval/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return nil
			}
			if err := s.handle(work, m); err != nil {
				return err
			}
		case now := <-tick.C:
			if err := s.flushDue(work, now); err != nil {
				return err
			}
		}
	}
}

// flushDue flushes every partition whose oldest unflushed message is at
// least BatchInterval old.
func (s *Sink) flushDue(ctx context.Context, now time.Time) error {
	for _, p := range s.parts {
		if p.pending() && now.Sub(p.since) >= s.cfg.BatchInterval {
			if err := s.flush(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushAll flushes every partition with something pending (the drain).
func (s *Sink) flushAll(ctx context.Context) error {
	for _, p := range s.parts {
		if p.pending() {
			if err := s.flush(ctx, p); err != nil {
				return fmt.Errorf("drain: %w", err)
			}
		}
	}
	return nil
}
