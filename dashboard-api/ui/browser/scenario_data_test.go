package browser

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func (r *run) traffic(t *testing.T) {
	require.NotEmpty(t, r.siteKey)
	// A week of history, then a few minutes' worth now for the real-time view.
	n := r.st.simulate(t, r.siteKey, "--visitors", "300", "--days", "7", "--seed", "7")
	n += r.st.simulate(t, r.siteKey, "--visitors", "20", "--days", "0", "--seed", "8")
	r.st.waitEvents(t, r.siteID, n, "1")
	r.subscriber = r.st.subscribers(t, r.siteID, 1)[0]
}

func (r *run) pushOutcomes(t *testing.T) {
	require.NotEmpty(t, r.campaignID)
	require.NotEmpty(t, r.automationID)
	subs := r.st.subscribers(t, r.siteID, 10)
	n := r.st.pushBeacons(t, r.siteKey, subs, r.campaignID, "")
	n += r.st.pushBeacons(t, r.siteKey, subs, "", r.automationID)
	r.st.waitEvents(t, r.siteID, n, "type IN ('push_delivered', 'push_clicked')")
}

func (r *run) timeControls(t *testing.T) {
	r.open(t, r.site("/overview"))
	poll[bool](t, r.tab, "the overview", `document.querySelector('.dash-body').dataset.state === 'ready'`, actionTimeout)
	r.do(t, selectOption(`.controls select[name=interval]`, "hour"))
	text := poll[string](t, r.tab, "the hourly overview", `(() => { const s = document.querySelector('.status').textContent; return s.includes('by hour') && document.querySelector('.dash-body').dataset.state === 'ready' && s; })()`, actionTimeout)
	require.Contains(t, text, "by hour")
	points := eval[int](t, r.tab, `+document.querySelector('.dash-body .chart-ready').dataset.points`)
	require.Greater(t, points, 100, "a week by hour has more than 100 buckets")
	r.do(t, selectOption(`.controls select[name=interval]`, "day"))
	poll[bool](t, r.tab, "the daily overview", `document.querySelector('.status').textContent.includes('by day')`, actionTimeout)
}

func (r *run) subscribersAndTimeline(t *testing.T) {
	r.open(t, r.site("/subscribers"))
	rows := poll[int](t, r.tab, "the subscriber list", `document.querySelectorAll('[data-table=subscribers] tbody tr').length`, actionTimeout)
	require.Positive(t, rows)
	r.do(t, selectOption(`select[name=segment]`, r.segmentID))
	members := poll[int](t, r.tab, "the segment's subscribers", `document.querySelector('[data-dashboard=subscribers]').dataset.state === 'ready' && document.querySelectorAll('[data-table=subscribers] tbody tr').length`, actionTimeout)
	require.Positive(t, members, "subscribers in the segment")
	r.requireCSV(t)
	r.screenshots(t, "subscribers")
	r.open(t, r.site("/subscribers/"+r.subscriber))
	events := poll[int](t, r.tab, "the timeline", `document.querySelectorAll('[data-table=timeline] tbody tr').length`, actionTimeout)
	require.Positive(t, events, "events of subscriber %s", r.subscriber)
	r.requireCSV(t)
	r.screenshots(t, "subscriber-timeline")
}

// phoneNavigation: on a phone the navigation is behind the Menu button.
func (r *run) phoneNavigation(t *testing.T) {
	r.open(t, r.site("/overview"))
	r.resize(t, viewports[1])
	defer r.resize(t, viewports[0])
	hidden := eval[bool](t, r.tab, `getComputedStyle(document.getElementById('nav')).display === 'none'`)
	require.True(t, hidden, "the navigation is folded away on a phone")
	r.click(t, `#nav-toggle`)
	poll[bool](t, r.tab, "the open navigation", `getComputedStyle(document.getElementById('nav')).display !== 'none'`, actionTimeout)
	r.click(t, `#nav a[data-page="conversions"]`)
	r.waitRoute(t, r.site("/conversions"))
	closed := eval[bool](t, r.tab, `getComputedStyle(document.getElementById('nav')).display === 'none'`)
	require.True(t, closed, "choosing a page folds the navigation again")
}
