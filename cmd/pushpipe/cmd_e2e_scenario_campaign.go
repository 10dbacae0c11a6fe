package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// e2eCampaign: a campaign to a segment of every subscriber of the site,
// throttled: each member receives exactly one push, the pushes are spread
// by the throttle, and the progress API ends with total = sent.
type e2eCampaign struct {
	e2eSite
	members, throttle int
	segmentID         string
}

func (s *e2eCampaign) name() string { return "throttled-campaign" }

func (s *e2eCampaign) prepare(ctx context.Context, r *e2eRun) error {
	if err := s.open(ctx, r, s.name()); err != nil {
		return err
	}
	var err error
	s.segmentID, err = s.api.createSegment(ctx, "subscribers", "event subscribed within 1d")
	return err
}

func (s *e2eCampaign) run(ctx context.Context, r *e2eRun) (string, error) {
	ids := e2eIDs("member", s.members)
	subs, err := s.subscribeAll(ctx, r, ids, "")
	if err != nil {
		return "", err
	}
	if err := s.waitMembers(ctx, 60*time.Second); err != nil {
		return "", err
	}
	id, err := s.api.createCampaign(ctx, "sale", s.def())
	if err != nil {
		return "", err
	}
	spread := time.Duration(float64(s.members-1) / float64(s.throttle) * float64(time.Minute))
	endpoints := make([]string, len(subs))
	for i, sub := range subs {
		endpoints[i] = sub.ID
	}
	r.stack.pushes.wait(ctx, endpoints, spread+45*time.Second)
	if err := sleep(ctx, 5*time.Second); err != nil {
		return "", err
	}
	span, err := s.check(r, ids, subs, id, spread)
	if err != nil {
		return "", err
	}
	p, err := s.waitProgress(ctx, id)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d/%d members got exactly one push, over %s (throttle %d/min); progress total=%d sent=%d",
		s.members, s.members, span.Round(100*time.Millisecond), s.throttle, p.Total, p.Sent), nil
}

func (s *e2eCampaign) def() any {
	return e2eCampaignDef{
		Variants:          []e2eVariant{{Name: "a", Weight: 1, Message: e2eMessage("Sale", "Everything must go")}},
		Include:           []string{s.segmentID},
		ThrottlePerMinute: s.throttle,
	}
}

// waitMembers waits until the segment has every subscriber as a member.
func (s *e2eCampaign) waitMembers(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := s.api.segmentMembers(ctx, s.segmentID)
		if err == nil && n >= s.members {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("segment members: %w", err)
			}
			return fmt.Errorf("the segment has %d of %d members after %s (segment evaluator: see the stream log)", n, s.members, timeout)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

// check counts one push per member with the campaign's payload and
// returns the time from the first push to the last.
func (s *e2eCampaign) check(r *e2eRun, ids []string, subs []e2eSubscription, campaignID string, spread time.Duration) (time.Duration, error) {
	t := e2eTally{n: s.members}
	var at []time.Time
	for i, sub := range subs {
		got := r.stack.pushes.of(sub.ID)
		if err := pushCount(got, 1); err != nil {
			t.add("members without exactly one push", fmt.Sprintf("%s: %v", ids[i], err))
			continue
		}
		if err := checkPayload(got[0], ids[i], "", campaignID); err != nil {
			t.add("pushes with a wrong payload", err.Error())
			continue
		}
		at = append(at, got[0].At)
	}
	if err := t.err(); err != nil {
		return 0, err
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	span := at[len(at)-1].Sub(at[0])
	// Throttled, the pushes cannot all come at once: the due times are
	// spaced 60/throttle seconds apart (allow half, for a token bucket's burst).
	if span < spread/2 {
		return span, fmt.Errorf("the %d pushes came within %s; a throttle of %d/min spreads them over about %s",
			len(at), span.Round(100*time.Millisecond), s.throttle, spread.Round(time.Second))
	}
	return span, nil
}

// waitProgress waits until the progress API reports every push sent.
func (s *e2eCampaign) waitProgress(ctx context.Context, id string) (e2eProgress, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := s.api.campaignProgress(ctx, id)
		if err == nil && p.Total == s.members && p.Sent == s.members {
			return p, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return p, fmt.Errorf("campaign progress: %w", err)
			}
			return p, fmt.Errorf("campaign progress: total=%d sent=%d pending=%d skipped=%d, want total=sent=%d",
				p.Total, p.Sent, p.Pending, p.Skipped, s.members)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return p, err
		}
	}
}
