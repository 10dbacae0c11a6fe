package automate

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/schemas"
)

// fetcher is the trigger consumer's group reader; *kafka.Reader is one.
type fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// consume runs the trigger consumer on its own group reader.
func (r *Runtime) consume(ctx context.Context) error {
	reader := kafkax.NewReader(kafkax.ReaderConfig{Brokers: r.deps.Brokers, Topic: r.cfg.Topic, GroupID: r.cfg.Group}, r.log)
	defer func() { _ = reader.Close() }()
	r.consumeFrom(ctx, reader)
	return nil
}

// maxBatch is how many fetched messages are handled together at most: their
// rows go to Postgres in one InsertScheduled.
const maxBatch = 500

// consumeFrom handles messages in partition order, in batches of what was
// fetched already, and commits, at most every Config.Commit, the offsets
// whose rows are inserted: a restart replays at most that much, and the
// replayed inserts change nothing.
func (r *Runtime) consumeFrom(ctx context.Context, f fetcher) {
	msgs := make(chan kafka.Message, maxBatch)
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		r.fetch(ctx, f, msgs)
	}()
	defer func() { <-fetched }()
	c := &committer{f: f, log: r.log, done: map[int]kafka.Message{}}
	tick := time.NewTicker(r.cfg.Commit)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			drain, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			c.commit(drain)
			stop()
			return
		case <-tick.C:
			c.commit(ctx)
		case m := <-msgs:
			batch := []kafka.Message{m}
			for len(batch) < maxBatch && len(msgs) > 0 {
				batch = append(batch, <-msgs)
			}
			if r.handleBatch(ctx, batch) != nil {
				continue // ctx ended: the batch is not committed
			}
			for _, m := range batch {
				c.done[m.Partition] = m
			}
		}
	}
}

// fetch feeds msgs until ctx ends.
func (r *Runtime) fetch(ctx context.Context, f fetcher, msgs chan<- kafka.Message) {
	for {
		m, err := f.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Warn("trigger consumer: fetch failed; retrying", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		select {
		case msgs <- m:
		case <-ctx.Done():
			return
		}
	}
}

// committer commits the latest handled message of each partition.
type committer struct {
	f    fetcher
	log  *slog.Logger
	done map[int]kafka.Message // not committed yet
}

func (c *committer) commit(ctx context.Context) {
	if len(c.done) == 0 {
		return
	}
	msgs := make([]kafka.Message, 0, len(c.done))
	for _, m := range c.done {
		msgs = append(msgs, m)
	}
	if err := c.f.CommitMessages(ctx, msgs...); err != nil {
		// After a rebalance the partition's new owner replays from the last
		// commit, harmlessly: forget these rather than retry them.
		c.log.Warn("trigger offsets not committed", "err", err)
	}
	clear(c.done)
}

// handle applies one event; see handleBatch.
func (r *Runtime) handle(ctx context.Context, m kafka.Message) error {
	return r.handleBatch(ctx, []kafka.Message{m})
}

// handleBatch applies events in order: the runs they start are inserted
// (after their cooldown allowed them), in one InsertScheduled, and the
// absence runs they end are cancelled, after inserting the rows of the
// events before (an E1 then its E2 in one batch: the row is cancelled). It
// retries while Postgres fails and returns an error only when ctx ended.
func (r *Runtime) handleBatch(ctx context.Context, msgs []kafka.Message) error {
	var rows []controlplane.ScheduledSend
	for _, m := range msgs {
		e, ok := decodeEvent(m.Value)
		if !ok {
			continue // undecodable: the sink dead-letters it
		}
		if e.Type == schemas.EventSubscriberErased {
			continue // a control event: triggers nothing (the API deleted the subscriber's rows)
		}
		r.saw(e.SiteID)
		r.fresh.add(&e, r.now())
		starts, cancels := r.catalog.upTo(ctx, e.ServerTime).triggered(&e)
		if len(cancels) > 0 {
			if err := r.insert(ctx, rows); err != nil {
				return err
			}
			rows = nil
			if err := r.cancel(ctx, cancels); err != nil {
				return err
			}
		}
		admitted, err := r.admit(ctx, &e, starts)
		if err != nil {
			return err
		}
		rows = append(rows, admitted...)
	}
	return r.insert(ctx, rows)
}

// admit returns the rows of the runs whose cooldown allows them.
func (r *Runtime) admit(ctx context.Context, e *schemas.Event, starts []start) ([]controlplane.ScheduledSend, error) {
	rows := make([]controlplane.ScheduledSend, 0, len(starts))
	now := r.now()
	for _, s := range starts {
		if s.row.NotAfter.Before(now) {
			continue // a replayed old event: its push would be dropped as expired anyway
		}
		allowed := true
		if cd := s.a.Def.Cooldown.D(); cd > 0 {
			err := r.retry(ctx, "automation cooldown", func() error {
				var err error
				allowed, err = r.deps.Store.EnterAutomation(ctx, s.a.ID, e.SubscriberID, e.Time, cd)
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		if allowed {
			rows = append(rows, s.row)
		}
	}
	return rows, nil
}

// cancel cancels the pending absence runs of keys.
func (r *Runtime) cancel(ctx context.Context, keys []string) error {
	for _, key := range keys {
		err := r.retry(ctx, "cancel absence runs", func() error {
			n, err := r.deps.Store.CancelPending(ctx, key)
			r.stats.cancelled.Add(int64(n))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// insert stores rows, retrying while Postgres fails, and wakes the
// dispatcher when one is due already.
func (r *Runtime) insert(ctx context.Context, rows []controlplane.ScheduledSend) error {
	if len(rows) == 0 {
		return nil
	}
	err := r.retry(ctx, "insert scheduled sends", func() error {
		_, err := r.deps.Store.InsertScheduled(ctx, rows)
		return err
	})
	if err != nil {
		return err
	}
	r.stats.triggered.Add(int64(len(rows)))
	now := r.now()
	for _, row := range rows {
		if !row.DueAt.After(now) {
			r.dispatch.wake()
			break
		}
	}
	return nil
}

// retry calls fn until it succeeds or ctx ends (then it returns ctx's error).
func (r *Runtime) retry(ctx context.Context, what string, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn(what+" failed; retrying", "err", err)
		if !sleep(ctx, 500*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func decodeEvent(value []byte) (schemas.Event, bool) {
	var e schemas.Event
	err := json.Unmarshal(value, &e)
	return e, err == nil
}
