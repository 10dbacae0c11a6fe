package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// smokeSegmentRules are the segments the smoke defines on its site: each
// subscriber enters and leaves each at most once during the run, so any
// transition seen twice is a double emission.
var smokeSegmentRules = map[string]string{
	"viewers":       `event page_view within 90d`,
	"engaged":       `event page_view count >= 3 within 90d`,
	"not converted": `not event conversion within 90d`,
}

type smokeSegment struct {
	id   string
	rule segments.Rule
}

// segmentsResult is the smoke's check of the segment evaluator.
type segmentsResult struct {
	segments, members, transitions, duplicates, mismatched int
}

func (r segmentsResult) String() string {
	return fmt.Sprintf("smoke-segments: segments=%d members=%d transitions=%d duplicate_transitions=%d mismatched=%d",
		r.segments, r.members, r.transitions, r.duplicates, r.mismatched)
}

func (r segmentsResult) ok() bool { return r.duplicates == 0 && r.mismatched == 0 && r.members > 0 }

func createSmokeSegments(ctx context.Context, c common, siteID string) ([]smokeSegment, error) {
	db, err := c.openPostgres(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	store := controlplane.NewStore(db, nil)
	var out []smokeSegment
	for _, name := range slices.Sorted(maps.Keys(smokeSegmentRules)) {
		rule, err := segments.ParseText(smokeSegmentRules[name])
		if err != nil {
			return nil, fmt.Errorf("smoke segment %q: %w", name, err)
		}
		js, err := json.Marshal(rule)
		if err != nil {
			return nil, fmt.Errorf("smoke segment %q: %w", name, err)
		}
		s, err := store.CreateSegment(ctx, siteID, controlplane.NewSegment{Name: name, Rule: js})
		if err != nil {
			return nil, fmt.Errorf("create smoke segment %q: %w", name, err)
		}
		out = append(out, smokeSegment{id: s.ID, rule: rule})
	}
	return out, nil
}

// checkSegments waits until the evaluator and the sink have caught up, then
// compares each segment's members in segment_membership (what the evaluator
// emitted) with the compiled SQL over the stored events, and counts
// transitions stored twice.
func checkSegments(ctx context.Context, stderr io.Writer, c common, ch driver.Conn, segGroup, sinkGroup, topic, siteID string,
	segs []smokeSegment, settle time.Duration,
) (segmentsResult, error) {
	for _, g := range []string{segGroup, sinkGroup, segGroup, sinkGroup} { // transitions go through the sink again
		if err := waitCaughtUp(ctx, stderr, c.Kafka, g, topic); err != nil {
			return segmentsResult{}, err
		}
	}
	deadline := time.Now().Add(settle)
	for {
		res, err := compareSegments(ctx, ch, siteID, segs)
		if err != nil {
			return segmentsResult{}, err
		}
		if res.mismatched == 0 || time.Now().After(deadline) {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return segmentsResult{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func compareSegments(ctx context.Context, ch driver.Conn, siteID string, segs []smokeSegment) (segmentsResult, error) {
	res := segmentsResult{segments: len(segs)}
	at := time.Now()
	for _, s := range segs {
		q, err := segments.Compile(s.rule, siteID, at)
		if err != nil {
			return res, fmt.Errorf("compile a smoke segment: %w", err)
		}
		args := make([]any, 0, len(q.Args))
		for k, v := range q.Args {
			args = append(args, clickhouse.Named(k, v))
		}
		want, err := queryStrings(ctx, ch, q.Query, args...)
		if err != nil {
			return res, err
		}
		got, err := queryStrings(ctx, ch, `SELECT subscriber_id FROM segment_membership FINAL
			WHERE site_id = @site AND segment_id = @segment AND member = 1`,
			clickhouse.Named("site", siteID), clickhouse.Named("segment", s.id))
		if err != nil {
			return res, err
		}
		res.members += len(got)
		res.mismatched += symmetricDifference(want, got)
	}
	var rows, distinct uint64
	if err := ch.QueryRow(ctx, `SELECT count(), uniqExact(segment_id, subscriber_id, type) FROM events
		WHERE site_id = ? AND type IN ('segment_entered', 'segment_exited')`, siteID).Scan(&rows, &distinct); err != nil {
		return res, fmt.Errorf("count transitions: %w", err)
	}
	res.transitions, res.duplicates = int(rows), int(rows-distinct)
	return res, nil
}

func queryStrings(ctx context.Context, ch driver.Conn, query string, args ...any) ([]string, error) {
	rows, err := ch.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("query members: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func symmetricDifference(a, b []string) int {
	in := map[string]int{}
	for _, s := range a {
		in[s] |= 1
	}
	for _, s := range b {
		in[s] |= 2
	}
	n := 0
	for _, v := range in {
		if v != 3 {
			n++
		}
	}
	return n
}
