package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// run is what the scenarios share, in order: the account, its site and the
// ids created through the page.
type run struct {
	*tab
	email, password string
	siteID, siteKey string
	segmentID       string
	campaignID      string
	automationID    string
	subscriber      string // a simulated subscriber with events
}

// step is one scenario of the run.
type step struct {
	name string
	fn   func(*testing.T)
}

// TestDashboardBrowser runs the scenarios in order against one stack and
// one browser: each needs what the ones before it made.
func TestDashboardBrowser(t *testing.T) {
	st := startStack(t)
	shots := screenshotDir(t)
	r := &run{tab: openBrowser(t, st, shots), email: fmt.Sprintf("analyst-%d@example.com", time.Now().UnixNano()), password: "correct horse battery"}
	t.Cleanup(func() { t.Logf("%d screenshots in %s", results.shots(), shots) })
	steps := []step{
		{"signup_and_create_site", r.signupAndSite},
		{"simulated_traffic", r.traffic},
		{"logout_and_login", r.logoutLogin},
		{"segment_with_live_preview_and_explain", r.segment},
		{"automation_with_problems_at_paths", r.automation},
		{"campaign_create_and_schedule", r.campaign},
		{"push_outcomes", r.pushOutcomes},
	}
	for _, d := range dashboardChecks {
		steps = append(steps, step{"dashboard_" + d.id, func(t *testing.T) { r.dashboard(t, d) }})
	}
	steps = append(steps, []step{
		{"time_controls", r.timeControls},
		{"phone_navigation", r.phoneNavigation},
		{"subscribers_and_timeline", r.subscribersAndTimeline},
		{"settings", r.settings},
		{"invitation_and_viewer_role", r.invitation},
	}...)
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			scenario(t)
			t.Cleanup(func() { r.check(t) })
			s.fn(t)
		})
		if !ok && (s.name == "signup_and_create_site" || s.name == "simulated_traffic") {
			t.Fatalf("%s failed: the later scenarios need it", s.name)
		}
	}
}

// screenshotDir is this run's folder under -screenshots (default
// <repo>/.dev/screenshots): kept after the test, unlike t.TempDir.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := *screenshotRoot
	if root == "" {
		wd, err := os.Getwd()
		require.NoError(t, err)
		root = filepath.Join(wd, "..", "..", "..", ".dev", "screenshots") // dashboard-api/ui/browser -> repo
	}
	dir := filepath.Join(root, time.Now().UTC().Format("20060102T150405Z"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

func (r *run) site(route string) string { return "/s/" + r.siteID + route }

// typeInto types text into the element, key by key, as a person would.
func (r *run) typeInto(t *testing.T, sel, text string) {
	t.Helper()
	r.do(t, sendKeys(sel, text))
}

// click clicks the element.
func (r *run) click(t *testing.T, sel string) {
	t.Helper()
	r.do(t, click(sel))
}
