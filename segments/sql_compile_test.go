package segments_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/segments"
)

var placeholder = regexp.MustCompile(`@[A-Za-z0-9_]+`)

func TestCompileBindsEveryValue(t *testing.T) {
	at := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		rule   string
		values []any // values that must be bound, never written in the text
	}{
		{`country = "Zorglub"`, []any{"Zorglub"}},
		{`country in ("Zorglub", "Quux")`, []any{"Zorglub", "Quux"}},
		{`attr.secret_key starts_with "Zorg"`, []any{"secret_key", "Zorg"}},
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
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			r, err := segments.ParseText(tc.rule)
			require.NoError(t, err)
			q, err := segments.Compile(r, "site-Xyzzy", at)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(q.Query,
				"SELECT subscriber_id FROM events WHERE site_id = @site AND time <= "), q.Query)
			require.Equal(t, "site-Xyzzy", q.Args["site"])
			require.Equal(t, at.UnixMilli(), q.Args["at"])
			require.NotContains(t, q.Query, "Xyzzy")
			require.NotContains(t, q.Query, "Zorg")
			require.NotContains(t, q.Query, "secret_key")
			require.NotContains(t, q.Query, "colour")
			bound := map[any]bool{}
			for _, v := range q.Args {
				bound[v] = true
			}
			for _, v := range tc.values {
				require.True(t, bound[v], "value %v (%T) not bound: %v", v, v, q.Args)
			}
			for _, p := range placeholder.FindAllString(q.Query, -1) {
				require.Contains(t, q.Args, p[1:], "placeholder without argument")
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	at := time.Now()
	cases := []struct {
		rule, want string
	}{
		{`sequence event page_view then not event conversion within 1d`, "sequence"},
		{`country = "FR" and segment "abc"`, "segment"},
		{`timezone = "Europe/Paris"`, "timezone"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			r, err := segments.ParseText(tc.rule)
			require.NoError(t, err)
			_, err = segments.Compile(r, "site", at)
			require.ErrorIs(t, err, segments.ErrNotCompiled)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := segments.Compile(segments.Rule{Kind: segments.KindAnd}, "site", at)
	var invalid *segments.Error
	require.ErrorAs(t, err, &invalid)
}
