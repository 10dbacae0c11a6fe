package browser

import (
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// testPageEvents: the demo page's automatic page views (load and
// history.pushState) and its track / conversion / identify buttons each
// reach ClickHouse exactly once, all with the page's subscriber id, which
// survives a reload. Every event carries the browser's timezone (emulated
// as Asia/Tokyo), validated by ingest and stored.
func testPageEvents(t *testing.T, sc *scene) {
	tb := openBrowser(t, sc)
	_, err := chromedp.Call(tb.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
	require.NoError(t, err, "emulate a timezone")
	tb.openDemo()
	sub := tb.subscriberID()
	first := eval[string](tb, `location.href`)

	views := waitRows(t, sc, 1, `type = 'page_view'`)
	require.Equal(t, first, views[0].URL, "the first page view has the page's URL")

	// A marker on window shows that the SPA navigation did not reload the page.
	eval[chromedp.Void](tb, `window.__spaMarker = 1`)
	tb.do(chromedp.Click(chromedp.CSS("#spa-nav")))
	next := eval[string](tb, `location.href`)
	require.NotEqual(t, first, next, "#spa-nav changes the URL with history.pushState")
	require.True(t, eval[bool](tb, `window.__spaMarker === 1`), "#spa-nav must not reload the page")
	waitRows(t, sc, 1, `type = 'page_view' AND url = ?`, next)
	waitRows(t, sc, 2, `type = 'page_view'`)

	tb.do(chromedp.Click(chromedp.CSS("#track")))
	custom := waitRows(t, sc, 1, `type = 'custom'`)
	require.NotEmpty(t, custom[0].Name, "a custom event has its name")

	tb.do(chromedp.Click(chromedp.CSS("#conversion")))
	conv := waitRows(t, sc, 1, `type = 'conversion'`)
	require.NotEmpty(t, conv[0].Name, "a conversion has its goal")
	require.Positive(t, conv[0].Revenue, "revenue stored")
	require.Regexp(t, `^[A-Z]{3}$`, conv[0].Currency, "currency stored")

	tb.do(chromedp.Click(chromedp.CSS("#identify")))
	ident := waitRows(t, sc, 1, `type = 'identify'`)
	require.NotEmpty(t, ident[0].ExternalID, "identify stores the external id")

	tb.reload() // reloads the pushed URL
	require.Equal(t, sub, tb.subscriberID(), "the subscriber id survives a reload")
	waitRows(t, sc, 2, `type = 'page_view' AND url = ?`, next)
	tb.fence()

	var n uint64
	var only string
	require.NoError(t, sc.ch.QueryRow(t.Context(), `SELECT uniqExact(subscriber_id), any(subscriber_id) FROM events WHERE site_id = ?`,
		sc.site.ID).Scan(&n, &only))
	require.Equal(t, uint64(1), n, "one subscriber id on every event of the page")
	require.Equal(t, sub, only, "the events' subscriber id is pushpipe.subscriberId()")
	requireTypeCounts(t, sc, sub, map[string]int{"page_view": 3, "custom": 2, "conversion": 1, "identify": 1})
	for _, row := range selectRows(t, sc, `1`) {
		require.Equal(t, "Asia/Tokyo", row.Timezone, "%s %s carries the browser's timezone", row.Type, row.EventID)
	}
}
