package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func (r *run) signupAndSite(t *testing.T) {
	r.open(t, "/login")
	poll[bool](t, r.tab, "the log-in form", `!!document.querySelector('#auth-form input[name=email]')`, actionTimeout)
	r.screenshots(t, "login")
	r.click(t, `a[href="#/signup"]`)
	r.waitRoute(t, "/signup")
	r.screenshots(t, "signup")
	r.typeInto(t, `#auth-form input[name=email]`, r.email)
	r.typeInto(t, `#auth-form input[name=password]`, r.password)
	r.click(t, `#auth-form button[type=submit]`)
	r.waitRoute(t, "/sites/new") // a new account has no site yet
	r.typeInto(t, `#new-site-form input[name=name]`, "Shop")
	r.typeInto(t, `#new-site-form input[name=allowed_origins]`, pageOrigin)
	r.screenshots(t, "new-site")
	r.click(t, `#new-site-form button[type=submit]`)
	key := poll[string](t, r.tab, "the new site's API key", `(document.getElementById('new-api-key') || {}).textContent`, actionTimeout)
	require.NotEmpty(t, key)
	r.screenshots(t, "site-created")
	site := eval[struct {
		ID      string `json:"id"`
		SiteKey string `json:"site_key"`
		Role    string `json:"role"`
	}](t, r.tab, `fetch('/v1/sites').then(r => r.json()).then(j => j.sites[0])`)
	require.Equal(t, "owner", site.Role, "the account that created the site owns it")
	r.siteID, r.siteKey = site.ID, site.SiteKey
	t.Logf("site %s (%s)", r.siteID, r.siteKey)
}

func (r *run) logoutLogin(t *testing.T) {
	r.open(t, r.site("/overview"))
	r.click(t, `#logout`)
	r.waitRoute(t, "/login")
	status := eval[int](t, r.tab, `fetch('/v1/me').then(r => r.status)`)
	require.Equal(t, 401, status, "after log-out the session is gone")
	r.typeInto(t, `#auth-form input[name=email]`, r.email)
	r.typeInto(t, `#auth-form input[name=password]`, "wrong password!")
	r.click(t, `#auth-form button[type=submit]`)
	msg := poll[string](t, r.tab, "the refusal", `(document.querySelector('#auth-form .problems') || {}).textContent`, actionTimeout)
	require.Contains(t, msg, "wrong e-mail address or password", "the API's problem is shown")
	r.do(t, setValue(`#auth-form input[name=password]`, ""))
	r.typeInto(t, `#auth-form input[name=password]`, r.password)
	r.click(t, `#auth-form button[type=submit]`)
	r.waitRoute(t, r.site("/overview"))
}

func (r *run) settings(t *testing.T) {
	r.open(t, r.site("/settings"))
	poll[bool](t, r.tab, "the owner's settings", `!!document.querySelector('#site-form') && !!document.querySelector('#delivery-form') && !!document.querySelector('#audit table')`, actionTimeout)
	actions := eval[string](t, r.tab, `document.querySelector('#audit table').textContent`)
	for _, a := range []string{"site.create", "segment", "campaign", "automation"} {
		require.Contains(t, actions, a, "the audit log lists the changes made through the page")
	}
	snippet := eval[string](t, r.tab, `document.querySelector('#snippet pre').textContent`)
	require.Contains(t, snippet, r.siteKey)
	// A change through the form, and a refused one with the API's problem.
	r.do(t, setValue(`#delivery-form input[type=number]`, "3")) // pushes per subscriber at most
	r.click(t, `#delivery-form button[type=submit]`)
	poll[bool](t, r.tab, "the saved settings", `!!document.querySelector('#delivery-form .ok')`, actionTimeout)
	r.do(t, setValue(`#site-form input[name=contact]`, "ops@example.com")) // not a mailto: URL
	r.click(t, `#site-form button[type=submit]`)
	msg := poll[string](t, r.tab, "the refusal", `(document.querySelector('#site-form .problems') || {}).textContent`, actionTimeout)
	require.Contains(t, msg, "contact", "the API's problem names the field")
	r.screenshots(t, "settings")
}

// invitation: the owner invites a viewer on the settings page; the invitee
// opens the link in a browser of their own, signs up, accepts, sees the
// dashboards, and is refused (with the API's problem) a change.
func (r *run) invitation(t *testing.T) {
	r.open(t, r.site("/settings"))
	viewer := "viewer-" + r.email
	r.typeInto(t, `#members input[name=invite-email]`, viewer)
	r.click(t, `#members form.row button[type=submit]`)
	link := poll[string](t, r.tab, "the invitation link", `(document.querySelector('#members p.ok code') || {}).textContent`, actionTimeout)
	require.True(t, strings.HasPrefix(link, r.st.api+"/#/accept?token="), link)

	other := openBrowser(t, r.st, r.shots)
	other.nshots = 100 // its screenshots sort after the owner's
	t.Cleanup(func() { other.check(t) })
	other.do(t, chromedp.Navigate(link))
	other.waitRoute(t, "/login") // logged out: log in or sign up first, then back to the invitation
	other.do(t, click(`a[href="#/signup"]`))
	other.waitRoute(t, "/signup")
	other.do(t, sendKeys(`#auth-form input[name=email]`, viewer), sendKeys(`#auth-form input[name=password]`, r.password))
	other.do(t, click(`#auth-form button[type=submit]`))
	poll[bool](t, other, "the invitation page", `!!document.querySelector('#accept-form')`, actionTimeout)
	other.do(t, click(`#accept-form button[type=submit]`))
	other.waitRoute(t, r.site("/overview"))
	poll[bool](t, other, "the viewer's overview", `document.querySelector('.dash-body').dataset.state === 'ready'`, actionTimeout)
	role := eval[string](t, other, `document.getElementById('site-switcher').selectedOptions[0].textContent`)
	require.Contains(t, role, "viewer")

	other.open(t, r.site("/segments"))
	other.do(t, sendKeys(`#segment-form input[name=name]`, "Not allowed"), sendKeys(`#segment-form textarea[name=text]`, `event page_view count >= 2 within 7d`))
	other.do(t, click(`#segment-form button[type=submit]`))
	msg := poll[string](t, other, "the refusal", `(document.querySelector('#segment-form .problems') || {}).textContent`, actionTimeout)
	require.NotEmpty(t, msg, "a viewer may not create a segment, and the page says why")
	t.Logf("a viewer creating a segment is told: %s", msg)
	other.screenshots(t, "viewer-refused")
}
