package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// failure answers for a failed control-plane call about a noun
// ("automation", "campaign", "site").
func (h *handlers) failure(c *gin.Context, err error, noun string) {
	switch {
	case errors.Is(err, controlplane.ErrNotFound):
		refuse(c, http.StatusNotFound, Problem{"id", "this site has no " + noun + " with this id"})
	case errors.Is(err, controlplane.ErrConflict):
		refuse(c, http.StatusConflict, Problem{"If-Match", "the " + noun + " has changed since that version; read it again"})
	case errors.Is(err, controlplane.ErrState):
		refuse(c, http.StatusConflict, Problem{"status", "not allowed in the " + noun + "'s current status; read it again"})
	case errors.Is(err, context.DeadlineExceeded):
		_ = c.Error(err)
		refuse(c, http.StatusGatewayTimeout, Problem{"", "the " + noun + " could not be read in time; retry later"})
	default:
		_ = c.Error(err)
		refuse(c, http.StatusInternalServerError, Problem{"", "the " + noun + " could not be read or written; retry later"})
	}
}

// MaxName bounds the names of automations and campaigns (characters).
const MaxName = 200

// checkName checks a required name of a noun.
func checkName(name, noun string) []Problem {
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return []Problem{{"name", "must be valid UTF-8"}}
	case strings.TrimSpace(name) == "":
		return []Problem{{"name", "missing: give the " + noun + " a name"}}
	case n > MaxName:
		return []Problem{{"name", fmt.Sprintf("has %d characters, more than the limit of %d", n, MaxName)}}
	case strings.TrimSpace(name) != name:
		return []Problem{{"name", "must not start or end with spaces"}}
	}
	return nil
}

// liveSegmentIDs returns the ids of the site's live segments.
func (h *handlers) liveSegmentIDs(ctx context.Context, siteID string) (map[string]bool, error) {
	segs, err := h.segments.Segments(ctx, siteID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(segs))
	for _, s := range segs {
		out[s.ID] = true
	}
	return out, nil
}

// segmentRef is a segment id a definition refers to, and where.
type segmentRef struct{ path, id string }

// unknownSegments reports every reference to a segment that is not a live
// segment of the site, under field.
func unknownSegments(field string, refs []segmentRef, live map[string]bool) []Problem {
	var probs []Problem
	for _, r := range refs {
		if r.id != "" && !live[r.id] {
			probs = append(probs, Problem{joinField(field, r.path), fmt.Sprintf("no segment of this site has the id %q", r.id)})
		}
	}
	return probs
}

// optTime writes an instant as RFC 3339 in UTC; the zero time is null.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}
