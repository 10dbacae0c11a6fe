package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/segments"
)

// siteRules is the live segments of one site with their parsed rules, for
// resolving references.
type siteRules struct {
	siteID string
	segs   []controlplane.Segment   // live, by name
	rules  map[string]segments.Rule // id -> parsed rule; a stored rule that no longer parses is missing
}

// loadSiteRules reads and parses the live segments of the site.
func (h *handlers) loadSiteRules(ctx context.Context, siteID string) (siteRules, error) {
	segs, err := h.segments.Segments(ctx, siteID)
	if err != nil {
		return siteRules{}, err
	}
	s := siteRules{siteID: siteID, segs: segs, rules: make(map[string]segments.Rule, len(segs))}
	for _, seg := range segs {
		r, err := segments.Parse(seg.Rule)
		if err != nil {
			h.log.Warn("stored segment rule does not parse", "site", siteID, "segment", seg.ID, "err", err.Error())
			continue
		}
		s.rules[seg.ID] = r
	}
	return s, nil
}

// resolver resolves references among the site's live segments, with the
// segment id (if not "") read as r: the rule about to be saved.
func (s siteRules) resolver(id string, r segments.Rule) segments.Resolver {
	return func(ref string) (segments.Rule, bool) {
		if id != "" && ref == id {
			return r, true
		}
		got, ok := s.rules[ref]
		return got, ok
	}
}

// reference is one segment condition in a rule: the id and where it is.
type reference struct {
	id   string
	path string // rule path of the segment node, as Validate writes paths
}

// references lists the segment conditions of r, depth first.
func references(r segments.Rule, parent string, out []reference) []reference {
	path := string(r.Kind)
	if parent != "" {
		path = parent + "." + path
	}
	switch r.Kind {
	case segments.KindAnd, segments.KindOr:
		for i, c := range r.Children {
			out = references(c, path+"["+strconv.Itoa(i)+"]", out)
		}
	case segments.KindNot:
		if r.Child != nil {
			out = references(*r.Child, path, out)
		}
	case segments.KindSegment:
		out = append(out, reference{id: r.Segment, path: path})
	}
	return out
}

// referrers returns the live segments other than id whose rules refer to id.
func (s siteRules) referrers(id string) []controlplane.Segment {
	var out []controlplane.Segment
	for _, seg := range s.segs {
		if seg.ID == id {
			continue
		}
		for _, ref := range references(s.rules[seg.ID], "", nil) {
			if ref.id == id {
				out = append(out, seg)
				break
			}
		}
	}
	return out
}

// errRuleInternal marks a failure of checkRule that is not the rule's fault.
var errRuleInternal = errors.New("check segment rule")

// checkRule checks that r, about to be saved as segment id ("" for a new
// one) or previewed, can be evaluated in its site: every reference names a
// live segment of the site, references form no cycle, the rule compiles to
// SQL at at (returned), and the incremental evaluator accepts it with the
// segments it references. Problems are reported under field ("rule" or
// "text"); an error wrapping errRuleInternal is not the rule's fault.
func (s siteRules) checkRule(field, id string, r segments.Rule, at time.Time) (segments.SQL, []Problem, error) {
	var probs []Problem
	for _, ref := range references(r, "", nil) {
		if _, ok := s.rules[ref.id]; !ok && ref.id != id {
			probs = append(probs, Problem{
				joinField(field, ref.path+".segment"),
				fmt.Sprintf("no segment of this site has the id %q", ref.id),
			})
		}
	}
	if len(probs) > 0 {
		return segments.SQL{}, probs, nil
	}
	q, err := segments.CompileWith(r, s.siteID, at, s.resolver(id, r))
	if err != nil {
		probs, err := compileProblems(field, err)
		return segments.SQL{}, probs, err
	}
	if probs := s.evaluatorProblems(field, id, r); len(probs) > 0 {
		return segments.SQL{}, probs, nil
	}
	return q, nil, nil
}

// evaluatorProblems reports why the incremental evaluator would refuse r
// with the segments it references, if it would.
func (s siteRules) evaluatorProblems(field, id string, r segments.Rule) []Problem {
	if _, err := segments.NewSet(s.closure(id, r)); err != nil {
		return []Problem{{field, "the segment evaluator cannot evaluate this rule: " + err.Error()}}
	}
	return nil
}

// compileProblems turns an error of CompileWith into a problem of the rule,
// or an internal error.
func compileProblems(field string, err error) ([]Problem, error) {
	var ruleErr *segments.Error
	switch {
	case errors.As(err, &ruleErr):
		return ruleProblems(field, err), nil
	case errors.Is(err, segments.ErrSegmentCycle):
		return []Problem{{field, "segment references form a cycle: " + trimPkg(err)}}, nil
	case errors.Is(err, segments.ErrUnknownSegment), errors.Is(err, segments.ErrSegmentNesting),
		errors.Is(err, segments.ErrNotCompiled):
		return []Problem{{field, "the rule cannot be evaluated: " + trimPkg(err)}}, nil
	}
	return nil, fmt.Errorf("%w: %w", errRuleInternal, err)
}

func trimPkg(err error) string { return strings.TrimPrefix(err.Error(), "segments: ") }

// newSegmentID stands for a segment not saved yet in the definitions given
// to the incremental evaluator; no stored id (a UUID) can equal it.
const newSegmentID = "(new segment)"

// closure returns r as segment id (or newSegmentID) and every live segment
// it references, directly or not: what the evaluator needs to evaluate it.
func (s siteRules) closure(id string, r segments.Rule) []segments.Definition {
	if id == "" {
		id = newSegmentID
	}
	resolve := s.resolver(id, r)
	seen := map[string]bool{id: true}
	defs := []segments.Definition{{ID: id, Rule: r}}
	for i := 0; i < len(defs); i++ {
		for _, ref := range references(defs[i].Rule, "", nil) {
			if seen[ref.id] {
				continue
			}
			seen[ref.id] = true
			if got, ok := resolve(ref.id); ok {
				defs = append(defs, segments.Definition{ID: ref.id, Rule: got})
			}
		}
	}
	return defs
}
