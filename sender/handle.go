package sender

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
)

// handle delivers one message and reports whether it may be committed:
// false only when the sender is stopping or the ledger stays unreachable,
// so the message is delivered again by whoever owns the partition next.
func (s *Service) handle(work, stop context.Context, msg kafka.Message) bool {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	var req schemas.PushRequest
	if err := json.Unmarshal(msg.Value, &req); err != nil {
		s.log.Error("undecodable push request dropped", "partition", msg.Partition, "offset", msg.Offset, "err", err)
		return true
	}
	if err := req.Validate(); err != nil {
		s.log.Error("invalid push request", "partition", msg.Partition, "offset", msg.Offset, "err", err)
		if _, perr := uuid.Parse(req.SiteID); perr == nil && req.RequestID != "" {
			s.report(work, &req, outcome{Type: schemas.EventPushFailed, Reason: ReasonInvalidRequest})
		}
		return true
	}
	release := s.claim(stop, req.RequestID)
	if release == nil {
		return false
	}
	defer release()
	var done bool
	if err := s.retryIO(work, stop, func(ctx context.Context) (err error) {
		done, err = s.ledger.Done(ctx, req.RequestID)
		return err
	}); err != nil {
		return false
	}
	if done {
		s.skipped.Add(1)
		return true
	}
	out, err := s.deliver(work, stop, &req)
	if err != nil {
		return false
	}
	rec := Record{RequestID: req.RequestID, SiteID: req.SiteID, Outcome: string(out.Type), Status: out.Status, Attempts: out.Attempts}
	if err := s.retryIO(work, work, func(ctx context.Context) error { return s.ledger.Record(ctx, rec) }); err != nil {
		s.log.Error("push delivered but not recorded", "site", req.SiteID, "request_id", req.RequestID, "err", err)
		return false
	}
	return s.report(work, &req, out)
}

// deliver checks the payload, finds the site's keys and attempts delivery
// until a final answer; errStopped when the sender stops first.
func (s *Service) deliver(work, stop context.Context, req *schemas.PushRequest) (outcome, error) {
	if err := s.cfg.checkSize(req.Payload); err != nil {
		s.log.Warn("push refused before sending", "site", req.SiteID, "request_id", req.RequestID, "err", err)
		return outcome{Type: schemas.EventPushFailed, Reason: ReasonTooLarge}, nil
	}
	var keys vapidKeys
	err := s.retryIO(work, stop, func(ctx context.Context) (err error) {
		keys, err = s.keys.get(ctx, req.SiteID)
		if errors.Is(err, controlplane.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return outcome{}, errStopped
	}
	if keys.Private == "" {
		s.log.Error("push for unknown site", "site", req.SiteID, "request_id", req.RequestID)
		return outcome{Type: schemas.EventPushFailed, Reason: ReasonUnknownSite}, nil
	}
	out, err := s.cfg.retryLoop(work, stop, req, func(ctx context.Context, ttl int) attempt {
		return s.attempt(ctx, stop, req, keys, ttl)
	})
	if err == nil && out.Reason == ReasonConfig {
		s.configErrors.Add(1)
		s.log.Warn("push service refused the request: check the site's VAPID keys and contact",
			"site", req.SiteID, "status", out.Status, "host", host(req.Subscription.Endpoint))
	}
	return out, err
}

// attempt makes one HTTP attempt within the per-origin limits and the
// active slots, and feeds its verdict to the origin's circuit breaker.
func (s *Service) attempt(ctx, stop context.Context, req *schemas.PushRequest, keys vapidKeys, ttl int) attempt {
	origin := host(req.Subscription.Endpoint)
	release, err := s.origins.acquire(stop, origin, req.Deadline())
	if err != nil {
		return attempt{Err: err}
	}
	defer release()
	select {
	case s.active <- struct{}{}:
	case <-stop.Done():
		return attempt{Err: errStopped}
	}
	defer func() { <-s.active }()
	s.attempts.Add(1)
	a := s.push(ctx, req, keys, ttl)
	v, _ := classify(a)
	s.origins.report(origin, v, a.RetryAfter)
	return a
}

// report counts an outcome and sends its event; false when the event could not be written.
func (s *Service) report(ctx context.Context, req *schemas.PushRequest, out outcome) bool {
	switch out.Type {
	case schemas.EventPushSent:
		s.sent.Add(1)
	case schemas.EventSubscriptionExpired:
		s.expired.Add(1)
	default:
		s.failed.Add(1)
	}
	ev := resultEvent(req, out, time.Now().UTC())
	b, err := json.Marshal(ev)
	if err == nil {
		err = s.events.WriteMessages(ctx, kafka.Message{Key: []byte(ev.Key()), Value: b})
	}
	if err != nil {
		s.log.Error("write push result event", "site", req.SiteID, "request_id", req.RequestID, "err", err)
		return false
	}
	return true
}

// resultEvent is the system event of an outcome.
func resultEvent(req *schemas.PushRequest, out outcome, now time.Time) schemas.Event {
	id, _ := uuid.NewV7()
	props := map[string]string{
		"status":     strconv.Itoa(out.Status),
		"latency_ms": strconv.FormatInt(out.Latency.Milliseconds(), 10),
		"attempts":   strconv.Itoa(out.Attempts),
		"host":       host(req.Subscription.Endpoint),
	}
	if req.StepID != "" {
		props["step_id"] = req.StepID
	}
	if req.Variant != "" {
		props["variant"] = req.Variant
	}
	return schemas.Event{
		EventID: id.String(), SiteID: req.SiteID, SubscriberID: req.SubscriberID, Type: out.Type,
		Time: now, ClientTime: now, ServerTime: now,
		PushID: req.RequestID, CampaignID: req.CampaignID, AutomationID: req.AutomationID,
		Reason: out.Reason, Props: props,
	}
}

// claim makes this process the only one delivering id (a rebalance can
// hand out a message again while its first copy is still in flight); it
// returns nil when stop ends the wait.
func (s *Service) claim(stop context.Context, id string) func() {
	for {
		s.mu.Lock()
		ch, busy := s.inflight[id]
		if !busy {
			ch = make(chan struct{})
			s.inflight[id] = ch
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.inflight, id)
				s.mu.Unlock()
				close(ch)
			}
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-stop.Done():
			return nil
		}
	}
}

// retryIO runs f until it succeeds, waiting with backoff between tries;
// it gives up when stop or ctx ends.
func (s *Service) retryIO(ctx, stop context.Context, f func(context.Context) error) error {
	for n := 1; ; n++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || stop.Err() != nil {
			return errStopped
		}
		s.log.Warn("sender dependency failed, retrying", "err", err, "try", n)
		wait := backoff(n, 100*time.Millisecond, 5*time.Second, 0)
		if sleep(stop, wait) != nil || ctx.Err() != nil {
			return errStopped
		}
	}
}
