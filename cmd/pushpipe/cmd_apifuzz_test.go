package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A trimmed NDJSON report of schemathesis 4.32: the same case in two
// scenarios, a 5xx, an undocumented status twice, a skipped operation and
// an error of schemathesis itself. One event a line once the continuation
// lines (starting with a space) are joined.
const fuzzReportSample = `{"Initialize":{"schemathesis_version":"4.32.5","seed":1}}
{"ScenarioFinished":{"phase":"examples","status":"skip","recorder":{"label":"POST /v1/auth/login"}}}
{"ScenarioFinished":{"phase":"coverage","status":"failure","recorder":{"label":"GET /v1/sites/{site}","checks":{
 "a":[{"name":"not_a_server_error","status":"success"},{"name":"status_code_conformance","status":"failure","failure_info":{"failure":{"code":"ST103","title":"Undocumented status code","message":"Received: 418\nDocumented: 200"}}}],
 "b":[{"name":"not_a_server_error","status":"failure","failure_info":{"failure":{"code":"ST100","title":"Server error","message":"500"}}}]}}}}
{"ScenarioFinished":{"phase":"fuzzing","status":"failure","recorder":{"label":"GET /v1/sites/{site}","checks":{
 "b":[{"name":"not_a_server_error","status":"failure","failure_info":{"failure":{"code":"ST100","title":"Server error","message":"500"}}}],
 "c":[{"name":"status_code_conformance","status":"failure","failure_info":{"failure":{"code":"ST103","title":"Undocumented status code","message":"Received: 418\nDocumented: 200"}}}]}}}}
{"ScenarioFinished":{"phase":"fuzzing","status":"success","recorder":{"label":"GET /v1/me","checks":{"d":[{"name":"not_a_server_error","status":"success"}]}}}}
{"NonFatalError":{"label":"GET /v1/sites/{site}/audit","value":{"type":"SystemError","message":"boom"}}}
`

func TestCountFuzzReport(t *testing.T) {
	res, err := countFuzzReport(strings.NewReader(strings.ReplaceAll(fuzzReportSample, "\n ", "")))
	require.NoError(t, err)
	require.Len(t, res.operations, 2, "tested operations, the skipped one not counted")
	require.Equal(t, 4, res.cases, "a case in two scenarios is one case")
	require.Equal(t, 1, res.serverErrors, "the same 5xx found twice is one")
	require.Equal(t, 1, res.specViolations, "the same undocumented status found twice is one")
	require.Equal(t, 1, res.errors, "schemathesis' own error")
	require.False(t, res.ok())
	require.Equal(t, "api-fuzz: operations=2 cases=4 server_errors=1 spec_violations=1", res.String())
	require.Len(t, res.failures, 3)
}

func TestCountFuzzReportRefusesEmpty(t *testing.T) {
	_, err := countFuzzReport(strings.NewReader(`{"Initialize":{}}` + "\n"))
	require.Error(t, err, "a report that tested nothing is not a clean run")
	_, err = countFuzzReport(strings.NewReader("not json\n"))
	require.Error(t, err)
}

func TestFuzzResultAddCountsOperationsOnce(t *testing.T) {
	a := fuzzResult{operations: map[string]bool{"GET /a": true, "GET /b": true}, cases: 3, specViolations: 1}
	b := fuzzResult{operations: map[string]bool{"GET /b": true}, cases: 2, serverErrors: 1}
	require.Equal(t, "api-fuzz: operations=2 cases=5 server_errors=1 spec_violations=1", a.add(b).String())
	require.True(t, fuzzResult{operations: map[string]bool{"GET /a": true}}.ok())
}

func TestRenderFuzzTOML(t *testing.T) {
	f := fuzzFixture{
		SiteID: "site-1", Key: "ppk_key", Session: "ppsess_s", CSRF: "csrf-1", DecoyKeyID: "key-decoy",
		MemberID: "member-1", DecoyMemberID: "member-decoy", InviteID: "inv-1", Segment: "seg-1", DecoySegment: "seg-decoy",
		Automation: "auto-1", DecoyAutomation: "auto-decoy", Campaign: "camp-1", DecoyCampaign: "camp-decoy",
	}
	passes := fuzzPasses(f)
	p := fuzzTOMLParams{BaseURL: "http://127.0.0.1:1", ReportDir: "/tmp/r", CacheDir: "/tmp/c", Examples: 7, Workers: 1, Seed: 3}
	tests := []struct {
		pass         fuzzPass
		want, absent []string
	}{
		{passes[0], []string{`"Authorization" = "Bearer ppk_key"`}, []string{"pushpipe_session", "enabled = false\n\n[[operations]]"}},
		{passes[1], []string{
			`"Cookie" = "pushpipe_session=ppsess_s"`, `"X-CSRF-Token" = "csrf-1"`,
			"include-operation-id = \"postAuthLogout\"\nenabled = false",
		}, []string{"Bearer"}},
	}
	for _, tt := range tests {
		t.Run(tt.pass.Name, func(t *testing.T) {
			toml := renderFuzzTOML(p, f, tt.pass)
			for _, w := range append(tt.want, `"path.site" = "site-1"`, "max-examples = 7", "not_a_server_error.enabled = true",
				"response_schema_conformance.enabled = true", "with-security-parameters = false", "ndjson.enabled = true",
				"[cache]\ndirectory = \"/tmp/c\"",
				"include-operation-id = \"deleteSitesSiteMembersAccount\"\nparameters.\"path.account\" = \"member-decoy\"",
				"include-operation-id = \"deleteSitesSiteKeysId\"\nparameters.\"path.id\" = \"key-decoy\"",
				"include-operation-id = \"deleteSitesSiteSegmentsId\"\nparameters.\"path.id\" = \"seg-decoy\"",
				"include-operation-id = \"putSitesSiteSegmentsId\"\nparameters.\"path.id\" = \"seg-1\"") {
				require.Contains(t, toml, w)
			}
			for _, a := range tt.absent {
				require.NotContains(t, toml, a)
			}
		})
	}
}

func TestParseAPIFuzzFlags(t *testing.T) {
	f, err := parseAPIFuzzFlags([]string{"-examples", "3", "-seed", "9"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 3, f.examples)
	require.Equal(t, int64(9), f.seed)
	require.Equal(t, 1, f.workers)
	_, err = parseAPIFuzzFlags([]string{"-examples", "0"}, io.Discard)
	require.Error(t, err)
}
