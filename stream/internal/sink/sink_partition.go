package sink

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/schemas"
)

type partKey struct {
	topic     string
	partition int
}

// partition is the loop's state of one topic partition.
type partition struct {
	key       partKey
	next      int64         // offset expected next; -1 before the first message
	watermark int64         // highest offset already stored at the last resync; -1 for none
	rows      []Row         // decoded, not yet inserted, in offset order
	seen      *idWindow     // event ids of the last rows stored or buffered; set by resync
	last      kafka.Message // position of the last handled message (no key or value)
	dirty     bool          // some handled message is not committed yet
	since     time.Time     // when the oldest uncommitted message was handled
	dlq       int           // dead-lettered since the last flush, for its log line
	dlqReason string        // reason of the first of them
	dlqOffset int64         // offset of the first of them
}

func (p *partition) pending() bool { return p.dirty }

func (p *partition) attrs(offset int64) []any {
	return []any{"topic", p.key.topic, "partition", p.key.partition, "offset", offset}
}

// mark records m as handled: it is covered by the partition's next commit.
func (p *partition) mark(m kafka.Message, now time.Time) {
	p.last = kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	if !p.dirty {
		p.dirty, p.since = true, now
	}
}

func (s *Sink) part(topic string, n int) *partition {
	k := partKey{topic: topic, partition: n}
	p, ok := s.parts[k]
	if !ok {
		p = &partition{key: k, next: -1, watermark: -1}
		s.parts[k] = p
	}
	return p
}

// handle takes one fetched message: it skips it when it is already stored,
// dead-letters it when it is undecodable, else adds it to the partition's
// batch, and flushes the batch when it is full.
func (s *Sink) handle(ctx context.Context, m kafka.Message) error {
	p := s.part(m.Topic, m.Partition)
	if m.Offset != p.next {
		if err := s.resync(ctx, p, m.Offset); err != nil {
			return err
		}
	}
	p.next = m.Offset + 1
	if m.Offset <= p.watermark {
		s.stats.skipped.Add(1)
	} else if err := s.add(ctx, p, m); err != nil {
		return err
	}
	p.mark(m, time.Now())
	if len(p.rows) >= s.cfg.BatchSize {
		return s.flush(ctx, p)
	}
	return nil
}

// resync runs when a partition's offsets are not contiguous: the first
// message after a start or a rebalance, or a rewind. It reloads the
// watermark and prunes the buffered rows: those at or below it are already
// stored (by this sink before a restart, or by the member that held the
// partition meanwhile), and those at or after offset will be delivered again.
func (s *Sink) resync(ctx context.Context, p *partition, offset int64) error {
	var wm int64
	var ok bool
	err := s.retry(ctx, "watermark read", p.attrs(offset), func(ctx context.Context) error {
		var err error
		wm, ok, err = s.store.Watermark(ctx, p.key.topic, p.key.partition)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		wm = -1
	}
	p.watermark = wm
	buffered := len(p.rows)
	stored := p.prune(wm, offset)
	s.stats.skipped.Add(int64(stored))
	if err := s.refillSeen(ctx, p, ok, offset); err != nil {
		return err
	}
	s.log.Info("partition position loaded", append(p.attrs(offset), "expected", p.next, "watermark", wm,
		"buffered", buffered, "dropped_as_stored", stored, "dropped_as_redelivered", buffered-stored-len(p.rows))...)
	return nil
}

// refillSeen rebuilds the partition's dedup window from what is stored just
// below the watermark and what is still buffered above it, so it holds the
// same ids whether or not the sink restarted in between.
func (s *Sink) refillSeen(ctx context.Context, p *partition, stored bool, offset int64) error {
	p.seen = newIDWindow(s.cfg.DedupWindow)
	if stored {
		var ids []uuid.UUID
		err := s.retry(ctx, "recent ids read", p.attrs(offset), func(ctx context.Context) error {
			var err error
			ids, err = s.store.RecentIDs(ctx, p.key.topic, p.key.partition, p.watermark-int64(s.cfg.DedupWindow))
			return err
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			p.seen.add(id)
		}
	}
	for _, r := range p.rows {
		p.seen.add(r.ID)
	}
	return nil
}

// prune drops the buffered rows at or below watermark and those at or after
// next, and returns how many were at or below watermark.
func (p *partition) prune(watermark, next int64) (stored int) {
	kept := p.rows[:0]
	for _, r := range p.rows {
		switch {
		case r.Offset <= watermark:
			stored++
		case r.Offset >= next:
		default:
			kept = append(kept, r)
		}
	}
	clear(p.rows[len(kept):])
	p.rows = kept
	return stored
}

// add decodes m into the batch or, when undecodable, writes it to the
// dead-letter topic before going on.
func (s *Sink) add(ctx context.Context, p *partition, m kafka.Message) error {
	row, reason := decode(m.Value)
	if reason == "" && row.Event.Type == schemas.EventSubscriberErased {
		return nil // a control event: storing it would make the erased subscriber appear again
	}
	if reason == "" {
		if p.seen.has(row.ID) {
			s.stats.duplicates.Add(1)
			return nil
		}
		p.seen.add(row.ID)
		row.Offset = m.Offset
		p.rows = append(p.rows, row)
		return nil
	}
	err := s.retry(ctx, "dead-letter write", p.attrs(m.Offset), func(ctx context.Context) error {
		return s.dlq.WriteMessages(ctx, deadLetter(m, reason))
	})
	if err != nil {
		return err
	}
	s.stats.deadLettered.Add(1)
	if p.dlq == 0 {
		p.dlqReason, p.dlqOffset = reason, m.Offset
	}
	p.dlq++
	return nil
}

// flush inserts the partition's batch, retrying until it succeeds or ctx
// ends, and only then commits the last handled offset. An error means ctx
// ended with the batch not inserted and nothing committed.
func (s *Sink) flush(ctx context.Context, p *partition) error {
	if n := len(p.rows); n > 0 {
		b := &Batch{Topic: p.key.topic, Partition: p.key.partition, Rows: p.rows}
		err := s.retry(ctx, "insert", p.attrs(b.Rows[0].Offset), func(ctx context.Context) error {
			return s.store.InsertBatch(ctx, b)
		})
		if err != nil {
			return err
		}
		s.stats.inserted.Add(int64(n))
		s.stats.batches.Add(1)
		s.log.Debug("batch inserted", append(p.attrs(b.Rows[n-1].Offset), "rows", n, "token", b.Token())...)
		clear(p.rows)
		p.rows = p.rows[:0]
	}
	if p.dlq > 0 {
		s.log.Warn("undecodable messages dead-lettered",
			append(p.attrs(p.dlqOffset), "count", p.dlq, "reason", p.dlqReason)...)
		p.dlq = 0
	}
	s.commit(ctx, p)
	return nil
}

// commit commits the last handled offset of p. A failure is not fatal: the
// partition stays pending and is committed again after another interval; a
// later commit covers this one, and a replay of it would be skipped.
func (s *Sink) commit(ctx context.Context, p *partition) {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	err := s.consumer.CommitMessages(cctx, p.last)
	cancel()
	if err != nil {
		p.since = time.Now()
		s.log.Warn("commit failed; will retry", append(p.attrs(p.last.Offset), "err", err)...)
		return
	}
	p.dirty = false
}
