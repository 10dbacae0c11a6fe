package segments_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/segments"
)

var placeholder = regexp.MustCompile(`@[A-Za-z0-9_]+`)

// refRules are the segments the unit tests reference, by id.
var refRules = map[string]string{
	"zorgFans": `country = "Zorgland" and event custom "zorgEvent" within 2d`,
	"zorgBoth": `segment "zorgFans" or attr.zorgKey = "zorgValue"`,
	"loopA":    `segment "loopB"`,
	"loopB":    `country = "FR" and segment "loopA"`,
	"self":     `not segment "self"`,
	"bad":      `country = "FR"`, // replaced by an invalid rule in resolveText
}

func resolveText(t *testing.T, rules map[string]string) segments.Resolver {
	return func(id string) (segments.Rule, bool) {
		if id == "bad" {
			return segments.Rule{Kind: segments.KindAnd}, true
		}
		text, ok := rules[id]
		if !ok {
			return segments.Rule{}, false
		}
		r, err := segments.ParseText(text)
		require.NoError(t, err)
		return r, true
	}
}

func TestCompileBindsEveryValue(t *testing.T) {
	at := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		rule   string
		values []any // values that must be bound, never written in the text
	}{
		{`country = "Zorglub"`, []any{"Zorglub"}},
		{`country in ("Zorglub", "Quux")`, []any{"Zorglub", "Quux"}},
		{`attr.secret_key starts_with "Zorg"`, []any{"secret_key", "Zorg"}},
		{`timezone in ("Zorg/Capital", "Europe/Paris")`, []any{"Zorg/Capital", "Europe/Paris"}},
		{
			`event custom "weird name" where props.colour = "Zorglub", revenue > 42.5 count >= 7 within 3d`,
			[]any{"custom", "weird name", "colour", "Zorglub", 42.5, int64(7), at.Add(-72 * time.Hour).UnixMilli()},
		},
		{
			`first event page_view where url regex "zorg.*" before "2025-03-04T05:06:07Z"`,
			[]any{"page_view", "zorg.*", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).UnixMilli()},
		},
		{`status = "Zorglub" and not inactive within 30m`, []any{"Zorglub", at.Add(-30 * time.Minute).UnixMilli()}},
		{`last_seen >= "2025-03-04T05:06:07Z"`, []any{time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).UnixMilli()}},
		{
			`sequence event custom "zorgStart" where props.zorgProp = "Zorgy" then not event conversion "zorgEnd" within 90m correlate "zorgKey"`,
			[]any{"custom", "zorgStart", "zorgProp", "Zorgy", "conversion", "zorgEnd", int64(90 * 60 * 1000), "zorgKey"},
		},
		{
			// Both referenced rules are inlined; a collision of parameter
			// names would lose one of their values.
			`segment "zorgBoth" and country = "Zorgistan"`,
			[]any{"Zorgland", "zorgEvent", at.Add(-48 * time.Hour).UnixMilli(), "zorgKey", "zorgValue", "Zorgistan"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			r, err := segments.ParseText(tc.rule)
			require.NoError(t, err)
			q, err := segments.CompileWith(r, "site-Xyzzy", at, resolveText(t, refRules))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(q.Query,
				"SELECT subscriber_id FROM events WHERE site_id = @site AND time <= "), q.Query)
			require.Contains(t, q.Query, "type NOT IN ('segment_entered', 'segment_exited')")
			require.Equal(t, "site-Xyzzy", q.Args["site"])
			require.Equal(t, at.UnixMilli(), q.Args["at"])
			for _, s := range []string{"Xyzzy", "Zorg", "zorg", "secret_key", "colour", "weird", "90"} {
				require.NotContains(t, q.Query, s)
			}
			bound := map[string]bool{}
			for _, v := range q.Args {
				bound[fmt.Sprintf("%T %v", v, v)] = true
			}
			for _, v := range tc.values {
				require.True(t, bound[fmt.Sprintf("%T %v", v, v)], "value %v (%T) not bound: %v", v, v, q.Args)
			}
			for _, p := range placeholder.FindAllString(q.Query, -1) {
				require.Contains(t, q.Args, p[1:], "placeholder without argument")
			}
		})
	}
}

func TestCompileBindsActivityTypes(t *testing.T) {
	r, err := segments.ParseText(`inactive within 1d or first_seen exists`)
	require.NoError(t, err)
	q, err := segments.Compile(r, "site", time.Now())
	require.NoError(t, err)
	require.Contains(t, q.Args["activity"], "page_view")
	require.NotContains(t, q.Args["activity"], "push_sent")
	require.NotContains(t, q.Query, "page_view")
}

func TestCompileRefuses(t *testing.T) {
	at := time.Now()
	chain := map[string]string{}
	for i := range segments.MaxSegmentNesting + 1 {
		chain["s"+strconv.Itoa(i)] = `segment "s` + strconv.Itoa(i+1) + `"`
	}
	chain["s"+strconv.Itoa(segments.MaxSegmentNesting)] = `country = "FR"`
	cases := []struct {
		rule    string
		resolve segments.Resolver
		is      error
		want    string
	}{
		{`country = "FR" and segment "abc"`, nil, segments.ErrUnknownSegment, `"abc"`},
		{`not segment "zorgFans"`, nil, segments.ErrUnknownSegment, `"zorgFans"`},
		{`segment "zorgBoth" or segment "nope"`, resolveText(t, refRules), segments.ErrUnknownSegment, `"nope"`},
		{`segment "loopA"`, resolveText(t, refRules), segments.ErrSegmentCycle, "loopA -> loopB -> loopA"},
		{`segment "self"`, resolveText(t, refRules), segments.ErrSegmentCycle, "self -> self"},
		{`segment "s0"`, resolveText(t, chain), segments.ErrSegmentNesting, `"s8"`},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			r, err := segments.ParseText(tc.rule)
			require.NoError(t, err)
			_, err = segments.CompileWith(r, "site", at, tc.resolve)
			require.ErrorIs(t, err, tc.is)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// The deepest chain allowed: eight levels of references.
	r, err := segments.ParseText(`segment "s1"`)
	require.NoError(t, err)
	_, err = segments.CompileWith(r, "site", at, resolveText(t, chain))
	require.NoError(t, err)

	_, err = segments.Compile(segments.Rule{Kind: segments.KindAnd}, "site", at)
	var invalid *segments.Error
	require.ErrorAs(t, err, &invalid)
	r, err = segments.ParseText(`segment "bad"`)
	require.NoError(t, err)
	_, err = segments.CompileWith(r, "site", at, resolveText(t, refRules))
	require.ErrorAs(t, err, &invalid)
	require.ErrorContains(t, err, `segment "bad"`)
}
