package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func (r *run) segment(t *testing.T) {
	r.open(t, r.site("/segments"))
	r.typeInto(t, `#segment-form input[name=name]`, "Visitors")
	r.typeInto(t, `#segment-form textarea[name=text]`, `event page_view count >= 1 within 30d`)
	count := poll[int](t, r.tab, "the live preview count", `+(document.getElementById('segment-preview').dataset.count || 0)`, actionTimeout)
	require.Positive(t, count, "subscribers matching the rule now")
	r.screenshots(t, "segment-editor")
	r.click(t, `#segment-form button[type=submit]`)
	poll[bool](t, r.tab, "the new segment in the list", `!!document.querySelector('tr[data-segment="Visitors"]')`, actionTimeout)
	r.segmentID = eval[string](t, r.tab, fmt.Sprintf(`fetch('/v1/sites/%s/segments').then(r => r.json()).then(j => j.segments.find(s => s.name === 'Visitors').id)`, r.siteID))

	r.do(t, setValue(`#explain-form input[name=subscriber]`, r.subscriber))
	r.click(t, `#explain-form button[type=submit]`)
	verdict := poll[string](t, r.tab, "the explanation", `(document.querySelector('#explain-form .form-out p strong') || {}).textContent`, actionTimeout)
	require.Equal(t, "Member", verdict, "a simulated subscriber with page views is a member")
	// The stream role backfills a new segment within seconds; then it has members.
	r.st.waitEvents(t, r.siteID, 1, "type = 'segment_entered' AND segment_id = ?", r.segmentID)
	r.click(t, `tr[data-segment="Visitors"] button:nth-of-type(2)`) // Members
	poll[bool](t, r.tab, "the members", `document.querySelectorAll('#segment-members tbody tr').length > 0`, actionTimeout)
	r.screenshots(t, "segments")
}

// automationJSON is a welcome automation; bad leaves the message title empty.
func automationJSON(bad bool) string {
	title := "Welcome!"
	if bad {
		title = ""
	}
	return fmt.Sprintf(`{"trigger":{"kind":"subscribed"},"steps":[{"message":{"title":%q,"url":"https://shop.example/"}}],"cooldown":"7d"}`, title)
}

func (r *run) automation(t *testing.T) {
	r.open(t, r.site("/automations"))
	r.typeInto(t, `#automation-form input[name=name]`, "Welcome")
	r.do(t, setValue(`#automation-form textarea[name=definition]`, automationJSON(true)))
	r.click(t, `#automation-form button[type=submit]`)
	paths := poll[string](t, r.tab, "the problems at their paths", `[...document.querySelectorAll('#automation-form .problems li.at-path code')].map(c => c.textContent).join(' ')`, actionTimeout)
	require.Contains(t, paths, "definition.steps[0].message", "the problem names the step's message")
	line := eval[string](t, r.tab, `(document.querySelector('#automation-form .json-lines li.bad') || {dataset: {}}).dataset.path || ''`)
	require.True(t, strings.HasPrefix(line, "steps[0].message"), "the problem is shown at the line of its path, got %q", line)
	r.screenshots(t, "automation-problems")
	r.do(t, setValue(`#automation-form textarea[name=definition]`, automationJSON(false)))
	r.click(t, `#automation-form button[type=submit]`)
	poll[bool](t, r.tab, "the new automation in the list", `[...document.querySelectorAll('[data-table=automations] tbody tr')].some(tr => tr.textContent.includes('Welcome'))`, actionTimeout)
	r.click(t, `[data-table=automations] tbody tr td.actions button:nth-of-type(2)`) // Enable
	poll[bool](t, r.tab, "the automation enabled", `!!document.querySelector('[data-table=automations] .badge.enabled')`, actionTimeout)
	r.automationID = eval[string](t, r.tab, fmt.Sprintf(`fetch('/v1/sites/%s/automations').then(r => r.json()).then(j => j.automations[0].id)`, r.siteID))
	r.screenshots(t, "automations")
}

func (r *run) campaign(t *testing.T) {
	require.NotEmpty(t, r.segmentID, "the segment scenario made the campaign's audience")
	r.open(t, r.site("/campaigns"))
	r.typeInto(t, `#campaign-form input[name=name]`, "Winter sale")
	r.do(t, selectOption(`#campaign-form select[name=include]`, r.segmentID))
	r.typeInto(t, `#campaign-form input[name=title1]`, "Winter sale starts now")
	r.typeInto(t, `#campaign-form input[name=body1]`, "Up to 50% off until Sunday")
	r.typeInto(t, `#campaign-form input[name=title2]`, "48 hours of sale")
	r.screenshots(t, "campaign-editor")
	r.click(t, `#campaign-form button[type=submit]`)
	poll[bool](t, r.tab, "the draft campaign", `!!document.querySelector('tr[data-campaign="Winter sale"] .badge.draft')`, actionTimeout)
	r.click(t, `tr[data-campaign="Winter sale"] button.primary`) // Schedule
	status := poll[string](t, r.tab, "the scheduled campaign", `(() => { const b = document.querySelector('tr[data-campaign="Winter sale"] .badge'); return b && b.textContent !== 'draft' && b.textContent; })()`, actionTimeout)
	require.NotEqual(t, "draft", status)
	poll[bool](t, r.tab, "the campaign's progress", `!!document.querySelector('tr[data-campaign="Winter sale"] .progress progress')`, actionTimeout)
	r.campaignID = eval[string](t, r.tab, fmt.Sprintf(`fetch('/v1/sites/%s/campaigns').then(r => r.json()).then(j => j.campaigns.find(c => c.name === 'Winter sale').id)`, r.siteID))
	r.screenshots(t, "campaigns")
}
