package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/segments"
)

// Limits of segment requests.
const (
	MaxSegmentName        = 200  // characters
	MaxSegmentDescription = 2000 // characters
	DefaultMembersLimit   = 100
	MaxMembersLimit       = 1000
	MaxSubscriberID       = 256 // bytes; longer ids are never stored
)

// SegmentRequest is the body of POST /v1/sites/{site}/segments and of PUT on
// a segment: the rule in its JSON form (rule) or its text form (text), not both.
type SegmentRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Rule        json.RawMessage `json:"rule,omitempty"`
	Text        *string         `json:"text,omitempty"`
}

// PreviewRequest is the body of POST /v1/sites/{site}/segments/preview: a
// rule (JSON or text form) and the instant to count members at (RFC 3339;
// default now).
type PreviewRequest struct {
	Rule json.RawMessage `json:"rule,omitempty"`
	Text *string         `json:"text,omitempty"`
	At   string          `json:"at,omitempty"`
}

// decodeBody reads a JSON object body into v, refusing unknown fields and
// trailing data. It answers the request itself and returns false on failure.
func decodeBody(c *gin.Context, v any) bool {
	body, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		refuse(c, http.StatusRequestEntityTooLarge, Problem{"", fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)})
		return false
	case err != nil:
		refuse(c, http.StatusBadRequest, Problem{"", "the body could not be read"})
		return false
	case len(bytes.TrimSpace(body)) == 0:
		refuse(c, http.StatusBadRequest, Problem{"", "missing body: send a JSON object"})
		return false
	case !utf8.Valid(body):
		// encoding/json would quietly turn the bad bytes into U+FFFD.
		refuse(c, http.StatusBadRequest, Problem{"", "the body is not valid UTF-8"})
		return false
	case bytes.IndexByte(body, 0) >= 0 || bytes.Contains(body, []byte(`\u0000`)):
		// No stored text may hold a NUL (Postgres refuses it).
		refuse(c, http.StatusBadRequest, Problem{"", "the body contains a NUL character (\\u0000)"})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("text after the JSON object")
	}
	if err != nil {
		refuse(c, http.StatusBadRequest, bodyProblem(err))
		return false
	}
	return true
}

// bodyProblem says what is wrong with a body that does not decode.
func bodyProblem(err error) Problem {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return Problem{typeErr.Field, "must be a JSON " + typeErr.Type.String()}
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ = strconv.Unquote(field)
		return Problem{field, "unknown field"}
	}
	return Problem{"", "the body is not a JSON object: " + err.Error()}
}

// checkSegmentFields checks the name and description.
func checkSegmentFields(req SegmentRequest) []Problem {
	var probs []Problem
	switch n := utf8.RuneCountInString(req.Name); {
	case !utf8.ValidString(req.Name):
		probs = append(probs, Problem{"name", "must be valid UTF-8"})
	case strings.TrimSpace(req.Name) == "":
		probs = append(probs, Problem{"name", "missing: give the segment a name"})
	case n > MaxSegmentName:
		probs = append(probs, Problem{"name", fmt.Sprintf("has %d characters, more than the limit of %d", n, MaxSegmentName)})
	case strings.TrimSpace(req.Name) != req.Name:
		probs = append(probs, Problem{"name", "must not start or end with spaces"})
	}
	switch n := utf8.RuneCountInString(req.Description); {
	case !utf8.ValidString(req.Description):
		probs = append(probs, Problem{"description", "must be valid UTF-8"})
	case n > MaxSegmentDescription:
		probs = append(probs, Problem{"description", fmt.Sprintf("has %d characters, more than the limit of %d", n, MaxSegmentDescription)})
	}
	return probs
}

// parseRule reads the rule from its JSON form or its text form, whichever
// was given (exactly one must be). Problems of the JSON form have paths under
// "rule.", those of the text form under "text."; a syntax error of the text
// form is reported on "text" with its line and column.
func parseRule(raw json.RawMessage, text *string) (segments.Rule, []Problem) {
	hasRule := len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
	switch {
	case hasRule && text != nil:
		return segments.Rule{}, []Problem{{"text", "give the rule either as rule (JSON form) or as text, not both"}}
	case hasRule:
		r, err := segments.Parse(raw)
		return r, ruleProblems("rule", err)
	case text != nil:
		r, err := segments.ParseText(*text)
		return r, ruleProblems("text", err)
	}
	return segments.Rule{}, []Problem{{"rule", "missing: give the rule as rule (JSON form) or as text (text form)"}}
}

// ruleProblems turns the error of segments.Parse or ParseText into problems
// whose fields are the rule's paths under field.
func ruleProblems(field string, err error) []Problem {
	if err == nil {
		return nil
	}
	var textErr *segments.TextError
	if errors.As(err, &textErr) {
		return []Problem{{field, fmt.Sprintf("line %d, column %d: %s", textErr.Line, textErr.Column, textErr.Msg)}}
	}
	var ruleErr *segments.Error
	if errors.As(err, &ruleErr) {
		probs := make([]Problem, len(ruleErr.Problems))
		for i, p := range ruleErr.Problems {
			probs[i] = Problem{joinField(field, p.Path), p.Problem}
		}
		return probs
	}
	return []Problem{{field, err.Error()}}
}

func joinField(field, path string) string {
	if path == "" {
		return field
	}
	return field + "." + path
}

// parseIfMatch reads the optional If-Match header: a version number, bare or
// as the ETag this API sends ("3", W/"3"). 0 means no condition.
func parseIfMatch(h string) (int, *Problem) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, &Problem{"If-Match", fmt.Sprintf("%q is not a segment version (a positive integer, as in the ETag)", h)}
	}
	return n, nil
}

// etag is the ETag of a segment version, which If-Match accepts back.
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// parseAt reads an optional RFC 3339 instant, truncated to milliseconds.
func parseAt(field, s string, now time.Time) (time.Time, *Problem) {
	if s == "" {
		return now.Truncate(time.Millisecond), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &Problem{field, fmt.Sprintf("%q is not an RFC 3339 time such as 2025-05-01T00:00:00Z (mind that + must be sent as %%2B in a URL)", s)}
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return time.Time{}, &Problem{field, fmt.Sprintf("must be between %d and %d", minYear, maxYear)}
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// knownParams reports every query parameter not in allowed.
func knownParams(values url.Values, allowed ...string) []Problem {
	takes := "none"
	if len(allowed) > 0 {
		takes = strings.Join(allowed, ", ")
	}
	var probs []Problem
	for _, k := range sortedKeys(values) {
		if !contains(allowed, k) {
			probs = append(probs, Problem{k, "unknown parameter; this endpoint takes " + takes})
		}
	}
	return probs
}

// membersParams are the parameters of a members page.
type membersParams struct {
	limit int
	after string // subscriber id the page starts after
}

// parseMembers reads limit (1 to MaxMembersLimit) and cursor (opaque, from
// next_cursor of the previous page).
func parseMembers(values url.Values) (membersParams, []Problem) {
	probs := knownParams(values, "limit", "cursor")
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	get := single(values, add)
	p := membersParams{limit: DefaultMembersLimit}
	if s, ok := get("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxMembersLimit {
			add("limit", "%q is not a number from 1 to %d", s, MaxMembersLimit)
		} else {
			p.limit = n
		}
	}
	if s, ok := get("cursor"); ok {
		after, valid := decodeCursor(s)
		if !valid {
			add("cursor", "is not a cursor this API gave out; pass next_cursor of the previous page unchanged")
		}
		p.after = after
	}
	return p, probs
}

// cursorPrefix versions the cursor format.
const cursorPrefix = "m1:"

func encodeCursor(subscriberID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + subscriberID))
}

func decodeCursor(s string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	after, ok := strings.CutPrefix(string(raw), cursorPrefix)
	return after, ok && after != "" && len(after) <= MaxSubscriberID
}

// explainParams are the parameters of an explanation.
type explainParams struct {
	subscriber string
	at         time.Time
}

// parseExplain reads subscriber (required) and at (RFC 3339, default now).
func parseExplain(values url.Values, now time.Time) (explainParams, []Problem) {
	probs := knownParams(values, "subscriber", "at")
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	get := single(values, add)
	var p explainParams
	if s, ok := get("subscriber"); !ok {
		add("subscriber", "missing: give the subscriber id to explain")
	} else if len(s) > MaxSubscriberID {
		add("subscriber", "is longer than %d bytes", MaxSubscriberID)
	} else {
		p.subscriber = s
	}
	at, _ := get("at")
	t, prob := parseAt("at", at, now)
	if prob != nil {
		probs = append(probs, *prob)
	}
	p.at = t
	return p, probs
}
