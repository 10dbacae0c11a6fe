package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/ingest/internal/spool"
)

// openSpool opens this instance's spool, when one is configured, and
// starts the goroutines that replay it and report its depth. Events an
// earlier process left in it are replayed first.
func (s *Service) openSpool() error {
	if s.cfg.SpoolMaxBytes == 0 {
		return nil
	}
	sp, err := spool.Open(spool.Options{Dir: s.cfg.SpoolPath(), MaxBytes: s.cfg.SpoolMaxBytes, Log: s.log})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	s.spool = sp
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBG = cancel
	s.background.Go(func() { s.replay(ctx) })
	s.background.Go(func() { s.reportSpool(ctx) })
	return nil
}

// closeSpool stops the replayer and closes the spool; what was not
// replayed stays on disk for the next start on this address.
func (s *Service) closeSpool() error {
	if s.spool == nil {
		return nil
	}
	s.stopBG()
	s.background.Wait()
	if n, size := s.spool.Depth(); n > 0 {
		s.log.Warn("ingest stops with events in its spool; they are replayed at the next start on this address",
			"dir", s.cfg.SpoolPath(), "records", n, "bytes", size)
	}
	if err := s.spool.Close(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// deliver makes the accepted messages durable. While the spool is empty
// they go straight to Kafka; what Kafka does not acknowledge is spooled.
// While the spool holds anything, new messages are spooled behind it, so
// no event overtakes an earlier one of the same subscriber. The error
// wraps spool.ErrFull when the spool has no room; then nothing of msgs
// was spooled (though some may be in Kafka: a retry is deduplicated by
// event id). Kafka's wait and the spool's have budgets of their own, so a
// Kafka that hangs still leaves time to spool.
func (s *Service) deliver(ctx context.Context, msgs []kafka.Message) error {
	if s.spool != nil && !s.spool.Empty() {
		return s.spoolMessages(ctx, msgs)
	}
	err := s.produce(ctx, msgs)
	if err == nil || s.spool == nil {
		return err
	}
	msgs = unacknowledged(msgs, err)
	s.log.Warn("Kafka did not acknowledge; spooling accepted events to disk until it does",
		"events", len(msgs), "dir", s.cfg.SpoolPath(), "err", err)
	if serr := s.spoolMessages(ctx, msgs); serr != nil {
		return errors.Join(fmt.Errorf("produce: %w", err), serr)
	}
	return nil
}

func (s *Service) produce(ctx context.Context, msgs []kafka.Message) error {
	ctx, cancel := context.WithTimeout(ctx, produceTimeout)
	defer cancel()
	return s.producer.WriteMessages(ctx, msgs...)
}

func (s *Service) spoolMessages(ctx context.Context, msgs []kafka.Message) error {
	ctx, cancel := context.WithTimeout(ctx, spoolTimeout)
	defer cancel()
	recs := make([][]byte, len(msgs))
	for i, m := range msgs {
		recs[i] = encodeSpooled(m)
	}
	if err := s.spool.Append(ctx, recs...); err != nil {
		return fmt.Errorf("spool %d events: %w", len(msgs), err)
	}
	return nil
}

// unacknowledged returns the messages a failed write did not deliver: the
// failed ones when kafka-go tells which (kafka.WriteErrors), else all.
func unacknowledged(msgs []kafka.Message, err error) []kafka.Message {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(msgs) {
		return msgs
	}
	var out []kafka.Message
	for i, e := range werrs {
		if e != nil {
			out = append(out, msgs[i])
		}
	}
	return out
}

// A spooled message is its key length (uvarint), key and value; the topic
// is the writer's and ingest sets no headers.
func encodeSpooled(m kafka.Message) []byte {
	b := make([]byte, 0, binary.MaxVarintLen32+len(m.Key)+len(m.Value))
	b = binary.AppendUvarint(b, uint64(len(m.Key)))
	b = append(b, m.Key...)
	return append(b, m.Value...)
}

func decodeSpooled(rec []byte) (kafka.Message, error) {
	n, w := binary.Uvarint(rec)
	if w <= 0 || n > uint64(len(rec)-w) {
		return kafka.Message{}, errors.New("decode spooled event: bad key length")
	}
	key := rec[w : w+int(n)] //nolint:gosec // n <= len(rec), checked above
	return kafka.Message{Key: key, Value: rec[w+len(key):]}, nil
}
