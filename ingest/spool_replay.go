package ingest

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/segmentio/kafka-go"
)

// Replay tuning.
const (
	replayBatch      = 500                    // spooled events per produce
	replayBackoffMin = 100 * time.Millisecond // first wait after Kafka refused
	replayBackoffMax = 2 * time.Second        // longest wait between attempts: the probe interval
	spoolReportEvery = 5 * time.Second        // depth log line while the spool is not empty
)

// replay produces the spooled events to Kafka, oldest first, and
// acknowledges them to the spool (which deletes a segment once all of it is
// acknowledged). While Kafka refuses, it retries the same events with
// backoff; that retry is the probe that notices Kafka is back.
func (s *Service) replay(ctx context.Context) {
	var replayed int
	for ctx.Err() == nil {
		b, err := s.spool.Read(replayBatch)
		if err != nil {
			s.log.Error("spool: read failed; retrying", "err", err)
			sleep(ctx, replayBackoffMax)
			continue
		}
		if len(b.Records) == 0 {
			if replayed > 0 {
				s.log.Info("spool replayed: every spooled event is in Kafka", "events", replayed)
				replayed = 0
			}
			select {
			case <-ctx.Done():
			case <-s.spool.Appended():
			}
			continue
		}
		if !s.produceUntilAcked(ctx, s.decodeBatch(b.Records)) {
			return
		}
		if err := s.spool.Ack(b); err != nil {
			s.log.Error("spool: acknowledge replayed events", "err", err)
		}
		replayed += len(b.Records)
	}
}

// decodeBatch turns spooled records back into messages. A record that does
// not decode (it passed its checksum, so only a bug writes one) is logged
// and skipped rather than blocking the spool.
func (s *Service) decodeBatch(recs [][]byte) []kafka.Message {
	msgs := make([]kafka.Message, 0, len(recs))
	for _, r := range recs {
		m, err := decodeSpooled(r)
		if err != nil {
			s.log.Error("spool: skipping a record that does not decode", "err", err, "bytes", len(r))
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// produceUntilAcked writes msgs until Kafka acknowledged every one (after a
// partial failure only the failed ones are sent again), backing off between
// attempts. It returns false when ctx ended first.
func (s *Service) produceUntilAcked(ctx context.Context, msgs []kafka.Message) bool {
	for attempt := 0; len(msgs) > 0; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, produceTimeout)
		err := s.producer.WriteMessages(pctx, msgs...)
		cancel()
		if err == nil {
			if attempt > 0 {
				s.log.Info("Kafka acknowledges again; replaying the spool", "attempts", attempt+1)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		msgs = unacknowledged(msgs, err)
		if attempt%20 == 0 {
			s.log.Warn("spool: Kafka does not acknowledge the spooled events; retrying", "attempts", attempt+1, "err", err)
		}
		if !sleep(ctx, min(replayBackoffMin<<min(attempt, 5), replayBackoffMax)) {
			return false
		}
	}
	return true
}

// reportSpool logs the spool's depth every few seconds while it is not empty.
func (s *Service) reportSpool(ctx context.Context) {
	t := time.NewTicker(spoolReportEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, size := s.spool.Depth(); n > 0 {
				s.log.Info("spool depth", "records", n, "bytes", size, "max_bytes", s.cfg.SpoolMaxBytes)
			}
		}
	}
}

// spoolStatus is the spool's part of GET /readyz.
func (s *Service) spoolStatus() gin.H {
	if s.spool == nil {
		return gin.H{"enabled": false}
	}
	n, size := s.spool.Depth()
	return gin.H{"enabled": true, "records": n, "bytes": size, "max_bytes": s.cfg.SpoolMaxBytes}
}

// sleep waits d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
