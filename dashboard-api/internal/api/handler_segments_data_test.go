package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/dashboard-api/internal/segdata"
	"github.com/pushpipe/pushpipe/segments"
)

func TestSegmentPreview(t *testing.T) {
	e := newSegmentEnv()
	e.data.count = 42
	base := e.create(t, "Base", ruleVisits)
	path := segmentsPath(siteA) + "/preview"

	rec := e.do(t, http.MethodPost, path, keyA, `{"text":"inactive within 30d"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"count":42,"at":"`+fixedNow.Format(time.RFC3339Nano)+`"}`, rec.Body.String())
	require.Len(t, e.data.counts, 1)
	q := e.data.counts[0]
	require.Equal(t, siteA, q.Args["site"], "the query is scoped to the site of the path")
	require.Equal(t, fixedNow.UnixMilli(), q.Args["at"], "at defaults to now")
	require.NotContains(t, q.Query, siteA, "the site is a bound parameter")

	rec = e.do(t, http.MethodPost, path, keyA, `{"rule":`+refRule(base.ID)+`,"at":"2025-01-02T03:04:05.678%2B01:00"}`)
	require.Equal(t, http.StatusBadRequest, rec.Code, "a URL escape is not a JSON string escape")
	rec = e.do(t, http.MethodPost, path, keyA, `{"rule":`+refRule(base.ID)+`,"at":"2025-01-02T03:04:05.678+01:00"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"count":42,"at":"2025-01-02T02:04:05.678Z"}`, rec.Body.String())
	q = e.data.counts[1]
	require.Equal(t, time.Date(2025, 1, 2, 2, 4, 5, 678e6, time.UTC).UnixMilli(), q.Args["at"])
	require.Contains(t, q.Query, "subscriber_id IN (", "the reference is compiled in")

	for _, tt := range []struct {
		name, body string
		wantFields []string
	}{
		{"no rule", `{}`, []string{"rule"}},
		{"bad at", `{"text":"inactive within 1d","at":"yesterday"}`, []string{"at"}},
		{"bad rule and bad at", `{"rule":{"kind":"inactive"},"at":"x"}`, []string{"rule.inactive.within", "at"}},
		{"unknown reference", `{"rule":` + refRule("nope") + `}`, []string{"rule.segment.segment"}},
		{"unknown field", `{"text":"inactive within 1d","name":"x"}`, []string{"name"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, http.MethodPost, path, keyA, tt.body)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			require.Equal(t, tt.wantFields, fields(t, rec))
		})
	}
	require.Len(t, e.data.counts, 2, "no query for a refused preview")

	t.Run("too slow", func(t *testing.T) {
		e.data.blockOnCount = true
		rec := e.do(t, http.MethodPost, path, keyA, `{"text":"inactive within 1d"}`)
		require.Equal(t, http.StatusGatewayTimeout, rec.Code)
	})
}

func TestSegmentMembersPages(t *testing.T) {
	e := newSegmentEnv()
	seg := e.create(t, "S", ruleIdle)
	for i := range 5 {
		e.data.members = append(e.data.members, segdata.Member{SubscriberID: fmt.Sprintf("sub-%d", i), Since: fixedNow.Add(time.Duration(i) * time.Minute)})
	}
	path := segmentsPath(siteA) + "/" + seg.ID + "/members"

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 5, "pages end")
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		rec := e.do(t, http.MethodGet, path+q, keyA, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		resp := decode[MembersResponse](t, rec)
		for _, m := range resp.Members {
			got = append(got, m.SubscriberID)
		}
		if resp.NextCursor == nil {
			require.Contains(t, rec.Body.String(), `"next_cursor":null`)
			break
		}
		require.Len(t, resp.Members, 2, "only the last page is short")
		require.NotContains(t, *resp.NextCursor, "sub-", "the cursor is opaque")
		cursor = *resp.NextCursor
	}
	require.Equal(t, []string{"sub-0", "sub-1", "sub-2", "sub-3", "sub-4"}, got)
	for _, q := range e.data.memberQs {
		require.Equal(t, siteA, q.SiteID)
		require.Equal(t, seg.ID, q.SegmentID)
	}

	rec := e.do(t, http.MethodGet, path, keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	first := decode[MembersResponse](t, rec)
	require.Len(t, first.Members, 5)
	require.Equal(t, fixedNow.Add(2*time.Minute).Format(time.RFC3339Nano), first.Members[2].Since)
	require.Equal(t, DefaultMembersLimit+1, e.data.memberQs[len(e.data.memberQs)-1].Limit, "default page size, plus one to see the next")

	for _, tt := range []struct{ query, field string }{
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?limit=ten", "limit"},
		{"?cursor=sub-1", "cursor"},
		{"?cursor=" + encodeCursor(""), "cursor"},
		{"?cursor=" + encodeCursor(strings.Repeat("x", MaxSubscriberID+1)), "cursor"},
		{"?page=2", "page"},
		{"?limit=1&limit=2", "limit"},
	} {
		rec := e.do(t, http.MethodGet, path+tt.query, keyA, "")
		require.Equal(t, http.StatusBadRequest, rec.Code, tt.query)
		require.Equal(t, []string{tt.field}, fields(t, rec), tt.query)
	}
	calls := e.data.calls()
	rec = e.do(t, http.MethodGet, segmentsPath(siteA)+"/00000000-0000-4000-8000-000000000099/members", keyA, "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, calls, e.data.calls(), "no ClickHouse query for an unknown segment")
}

func TestSegmentExplain(t *testing.T) {
	e := newSegmentEnv()
	base := e.create(t, "Base", ruleVisits)
	seg := e.create(t, "Loyal and idle", `{"kind":"and","children":[`+refRule(base.ID)+`,{"kind":"inactive","within":"1d"}]}`)
	view := func(id string, d time.Duration) segments.Event {
		return segments.Event{ID: id, Type: "page_view", Time: fixedNow.Add(-d)}
	}
	e.data.events = []segments.Event{view("e1", 72*time.Hour), view("e2", 60*time.Hour), view("e3", 50*time.Hour)}
	path := segmentsPath(siteA) + "/" + seg.ID + "/explain"

	rec := e.do(t, http.MethodGet, path+"?subscriber=s1", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	x := decode[segments.Explanation](t, rec)
	require.True(t, x.Member, rec.Body.String())
	require.Equal(t, seg.ID, x.Segment)
	require.True(t, fixedNow.Equal(x.At))
	require.Len(t, x.Rule.Children, 2)
	require.Equal(t, segdata.EventsQuery{SiteID: siteA, SubscriberID: "s1", At: fixedNow, Limit: MaxExplainEvents + 1}, e.data.eventQs[0])

	rec = e.do(t, http.MethodGet, path+"?subscriber=s1&at=2025-05-18T10:30:00Z", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.False(t, decode[segments.Explanation](t, rec).Member, "two days earlier the subscriber was active")
	require.Equal(t, time.Date(2025, 5, 18, 10, 30, 0, 0, time.UTC), e.data.eventQs[1].At)

	for _, tt := range []struct{ query, field string }{
		{"", "subscriber"},
		{"?subscriber=s1&at=soon", "at"},
		{"?subscriber=" + strings.Repeat("s", MaxSubscriberID+1), "subscriber"},
		{"?subscriber=s1&who=me", "who"},
	} {
		rec := e.do(t, http.MethodGet, path+tt.query, keyA, "")
		require.Equal(t, http.StatusBadRequest, rec.Code, tt.query)
		require.Equal(t, []string{tt.field}, fields(t, rec), tt.query)
	}

	t.Run("too many events", func(t *testing.T) {
		many := make([]segments.Event, MaxExplainEvents+1)
		for i := range many {
			many[i] = view(fmt.Sprint(i), time.Hour)
		}
		e.data.events = many
		rec := e.do(t, http.MethodGet, path+"?subscriber=s1", keyA, "")
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		require.Equal(t, []string{"subscriber"}, fields(t, rec))
		e.data.events = many[:MaxExplainEvents]
		rec = e.do(t, http.MethodGet, path+"?subscriber=s1", keyA, "")
		require.Equal(t, http.StatusOK, rec.Code, "exactly the limit is read")
	})
}
