package browser

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// dashboardCheck is what one dashboard must show with the run's data.
type dashboardCheck struct {
	id        string
	minRows   int    // table rows at least
	minCharts int    // drawn charts at least
	minCards  int    // number cards at least
	card      string // a card (data-key) whose value must not be 0
	contains  string // text the dashboard must contain ("" for none); "$campaign" and "$automation" are the run's ids
}

// dashboardChecks: every dashboard of the page.
var dashboardChecks = []dashboardCheck{
	{id: "overview", minCharts: 1, minCards: 10, card: "visitors"},
	{id: "funnel", minRows: 1, minCards: 4, card: "total.shown"},
	{id: "campaign-performance", minRows: 1, contains: "$campaign"},
	{id: "automation-performance", minRows: 1, contains: "$automation"},
	{id: "events", minCharts: 1, minCards: 1},
	{id: "conversions", minRows: 1, minCharts: 2},
	{id: "segment-sizes", minRows: 1, minCharts: 1, contains: "Visitors"},
	{id: "realtime", minRows: 1, minCharts: 1},
}

// dashboardState is what a dashboard shows, read in the page.
type dashboardState struct {
	State    string            `json:"state"`
	Rows     int               `json:"rows"`
	Charts   int               `json:"charts"`
	Cards    map[string]string `json:"cards"`
	Text     string            `json:"text"`
	Problems string            `json:"problems"`
}

const readDashboard = `(() => {
	const b = document.querySelector('.dash-body');
	const cards = {};
	b.querySelectorAll('.kpi').forEach(k => { cards[k.dataset.key] = k.querySelector('.kpi-value').textContent; });
	return {
		state: b.dataset.state,
		rows: b.querySelectorAll('table.data tbody tr').length,
		charts: b.querySelectorAll('.chart-ready canvas').length,
		cards,
		text: b.textContent,
		problems: [...b.querySelectorAll('.problems')].map(p => p.textContent).join(' | '),
	};
})()`

func (r *run) dashboard(t *testing.T, d dashboardCheck) {
	require.NotEmpty(t, r.siteID)
	r.open(t, r.site("/"+d.id))
	poll[bool](t, r.tab, d.id+" loaded", `['ready', 'error'].includes(document.querySelector('.dash-body').dataset.state) && document.querySelectorAll('.dash-body .chart:not(.chart-ready)').length === 0`, actionTimeout)
	s := eval[dashboardState](t, r.tab, readDashboard)
	require.Equal(t, "ready", s.State, "%s: the API's problems: %s", d.id, s.Problems)
	require.GreaterOrEqual(t, s.Rows, d.minRows, "%s: table rows", d.id)
	require.GreaterOrEqual(t, s.Charts, d.minCharts, "%s: drawn charts", d.id)
	require.GreaterOrEqual(t, len(s.Cards), d.minCards, "%s: number cards %v", d.id, s.Cards)
	if d.card != "" {
		require.Contains(t, s.Cards, d.card, "%s: cards %v", d.id, s.Cards)
		require.NotEqual(t, "0", s.Cards[d.card], "%s: card %s", d.id, d.card)
	}
	switch want := d.contains; want {
	case "":
	case "$campaign":
		require.Contains(t, s.Text, r.campaignID, "%s shows the campaign", d.id)
	case "$automation":
		require.Contains(t, s.Text, r.automationID, "%s shows the automation", d.id)
	default:
		require.Contains(t, s.Text, want, d.id)
	}
	if d.minRows > 0 {
		r.requireCSV(t)
	}
	r.screenshots(t, "dashboard-"+d.id)
}

// requireCSV requires that the page offers a CSV link for its tables and
// that each answers CSV with a header line and at least one row.
func (r *run) requireCSV(t *testing.T) {
	t.Helper()
	type answer struct {
		Href   string `json:"href"`
		Status int    `json:"status"`
		Type   string `json:"type"`
		Lines  int    `json:"lines"`
	}
	got := eval[[]answer](t, r.tab, `Promise.all([...new Set([...document.querySelectorAll('a.csv')].map(a => a.href))].map(href =>
		fetch(href).then(async res => ({ href, status: res.status, type: res.headers.get('content-type') || '', lines: (await res.text()).trim().split('\n').length }))))`)
	require.NotEmpty(t, got, "CSV links on the page")
	for _, a := range got {
		require.Equal(t, 200, a.Status, a.Href)
		require.Contains(t, a.Type, "text/csv", a.Href)
		require.GreaterOrEqual(t, a.Lines, 2, fmt.Sprintf("%s: a header and rows", a.Href))
	}
}
