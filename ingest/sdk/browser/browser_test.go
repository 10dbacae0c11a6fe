package browser

import "testing"

// TestBrowser runs every scenario against one stack (ingest and stream
// processes); each scenario has its own site and its own Chromium profile.
func TestBrowser(t *testing.T) {
	st := startStack(t)
	t.Run("serving", func(t *testing.T) { testServing(t, st.newScene(t)) })
	t.Run("page_views_track_conversion_identify", func(t *testing.T) { testPageEvents(t, st.newScene(t)) })
	t.Run("prompt_not_shown_when_already_granted", func(t *testing.T) { testPromptNotShownWhenGranted(t, st.newScene(t)) })
	t.Run("prompt_allow_subscribes_with_stubbed_push_service", func(t *testing.T) { testPromptAllow(t, st.newScene(t)) })
	t.Run("prompt_deny_is_remembered", func(t *testing.T) { testPromptDeny(t, st.newScene(t)) })
	t.Run("prompt_dismiss_cools_down", func(t *testing.T) { testPromptDismiss(t, st.newScene(t)) })
	t.Run("push_shown_delivered_and_clicked", func(t *testing.T) { testPush(t, st.newScene(t)) })
}
