# Pushpipe — the two commands a user needs are `make run` and `make test`.
# Everything the targets need is fetched and started by the project itself
# (internal/devstack); all local state lives under .dev/.

GO           ?= go
BIN          := bin/pushpipe
DEV          := .dev
GOLANGCI     := $(DEV)/bin/golangci-lint
GOLANGCI_VER := v2.15.0
# The dev stack's addresses (pushpipe dev env prints them) and a dev-only master key.
DEVENV        = eval "$$($(BIN) dev env)" && export PUSHPIPE_MASTER_KEY="$$(cat $(DEV)/master.key)"

.PHONY: all build run test test-unit fuzz bench bench-sink bench-restore test-browser smoke e2e-automations bench-ingest bench-sender bench-segments segments-equivalence lint dev-up dev-down dev-status clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pushpipe

$(DEV)/master.key:
	@mkdir -p $(DEV) && umask 077 && head -c 32 /dev/urandom | base64 > $@
	@echo "generated a development master key in $@ (production: set PUSHPIPE_MASTER_KEY)"

dev-up: build $(DEV)/master.key
	$(BIN) dev up

dev-down: build
	$(BIN) dev down

dev-status: build
	$(BIN) dev status

## run: fetch and start the stack, migrate, create a demo account and site, run every role in one
## process (cookies without the Secure flag: the page is served over plain http on localhost).
run: dev-up
	@$(DEVENV) && PUSHPIPE_API_INSECURE_COOKIES=$${PUSHPIPE_API_INSECURE_COOKIES:-true} exec $(BIN) demo --state $(DEV)/demo-site.json

## test: start the stack, then run unit, integration and end-to-end tests:
## vet, the JavaScript unit tests, every Go package, a short fuzz pass, the dashboard judge,
## schemathesis against the API (api-fuzz), then the browser suite (last, so its summary line ends the output).
test: dev-up
	$(GO) vet ./...
	node --test ingest/sdk/test/ dashboard-api/ui/test/
	@$(DEVENV) && $(GO) test -race -shuffle=on -count=1 -timeout 20m $$($(GO) list ./... | grep -v -e /ingest/sdk/browser -e /dashboard-api/ui/browser)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5s
	@status=0; $(MAKE) --no-print-directory test-dashboard || status=$$?; \
	$(MAKE) --no-print-directory api-fuzz || status=$$?; \
	$(MAKE) --no-print-directory test-browser || status=$$?; exit $$status

## fuzz: every fuzz target for FUZZTIME each (beacon decoder, sink decoder, segment rule
## parsers, message templating, the test push service's decryption); seeds in testdata/fuzz.
FUZZTIME ?= 30s
FUZZ_TARGETS = ./ingest:FuzzBeacon ./stream/internal/sink:FuzzDecode ./segments:FuzzParse ./segments:FuzzParseText \
	./internal/pushmsg:FuzzRender ./internal/testkit/pushservice:FuzzDecrypt
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz: $$fn ($$pkg) for $(FUZZTIME)"; \
		if ! $(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg > $(DEV)/fuzz-$$fn.log 2>&1; then \
			if grep -q 'context deadline exceeded' $(DEV)/fuzz-$$fn.log && ! grep -q -e 'Failing input written' -e 'panic:' -e '_test.go:[0-9]' $(DEV)/fuzz-$$fn.log; then \
				echo "fuzz: $$fn stopped by the fuzz engine's own deadline race (go.dev/issue/75804, fixed in Go 1.27), no failing input: not a finding"; \
			else tail -n 30 $(DEV)/fuzz-$$fn.log; exit 1; fi; \
		fi; \
	done; echo "fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZTIME) each, no failure"

## test-dashboard: the dashboard's judge. The tenant-isolation table over every route of the API
## (real Postgres and ClickHouse: a session and a key of site A against every resource of site B,
## and anonymous calls) with the OpenAPI tests (dashboard-api/openapi.yaml equals the routes, and
## the real answers match it), the dashboard browser suite (test-dashboard-browser, real Chromium) and
## the dashboard query benchmark on TEST_DASHBOARD_BENCH_EVENTS simulated events (passed to
## bench-dashboard as PUSHPIPE_BENCH_DASHBOARD_EVENTS; 10 million, as the issue asks; also alone:
## `make bench-dashboard`). Logs in .dev/dashboard-*.log. Last line
## `dashboard: routes=N cross_tenant_leaks=L screenshots=S p95_query_ms=Q`; exits 0 only when
## L=0 and every part passed; a part that printed no summary is named and counts as a failure.
.PHONY: test-dashboard
TEST_DASHBOARD_BENCH_EVENTS ?= 10000000
test-dashboard: dev-up
	@mkdir -p $(DEV); status=0; iso=$(abspath $(DEV))/dashboard-isolation-summary.txt; \
	rm -f $$iso $(DEV)/dashboard-isolation.log $(DEV)/dashboard-browser.log $(DEV)/dashboard-bench.log; \
	echo "dashboard: tenant isolation over every route, and the OpenAPI document against the routes (log: $(DEV)/dashboard-isolation.log)"; \
	( $(DEVENV) && $(GO) test -race -count=1 -timeout 10m -v -run '^(TestTenantIsolationEveryRoute|TestOpenAPI[A-Za-z]*)$$' ./dashboard-api/ \
		-args -isolation-summary=$$iso ) > $(DEV)/dashboard-isolation.log 2>&1 || { status=1; \
		grep -E -e '--- FAIL|Error:|cross-tenant leak|_test\.go:[0-9]+:' $(DEV)/dashboard-isolation.log | head -n 80; }; \
	echo "dashboard: browser suite (log: $(DEV)/dashboard-browser.log)"; \
	$(MAKE) --no-print-directory test-dashboard-browser > $(DEV)/dashboard-browser.log 2>&1 || { status=1; tail -n 40 $(DEV)/dashboard-browser.log; }; \
	echo "dashboard: query benchmark on $(TEST_DASHBOARD_BENCH_EVENTS) events (log: $(DEV)/dashboard-bench.log)"; \
	PUSHPIPE_BENCH_DASHBOARD_EVENTS=$(TEST_DASHBOARD_BENCH_EVENTS) $(MAKE) --no-print-directory bench-dashboard > $(DEV)/dashboard-bench.log 2>&1 || { status=1; tail -n 40 $(DEV)/dashboard-bench.log; }; \
	routes=$$(sed -n 's/^routes=\([0-9]*\) .*/\1/p' $$iso 2>/dev/null); \
	leaks=$$(sed -n 's/.* cross_tenant_leaks=\([0-9]*\).*/\1/p' $$iso 2>/dev/null); \
	browser=$$(grep '^dashboard-browser: ' $(DEV)/dashboard-browser.log 2>/dev/null | tail -n 1); \
	shots=$$(echo "$$browser" | sed -n 's/.* screenshots=\([0-9]*\).*/\1/p'); \
	failed=$$(echo "$$browser" | sed -n 's/.* failed=\([0-9]*\).*/\1/p'); \
	p95=$$(grep '^dashboard-bench: ' $(DEV)/dashboard-bench.log 2>/dev/null | tail -n 1 | sed -n 's/.*p95_query_ms=\([0-9.]*\).*/\1/p'); \
	if [ -z "$$routes" ] || [ -z "$$leaks" ]; then echo "dashboard: missing: the isolation test wrote no summary"; routes=NA; leaks=NA; status=1; fi; \
	if [ -z "$$shots" ] || [ -z "$$failed" ]; then echo "dashboard: missing: test-dashboard-browser printed no 'dashboard-browser:' line"; shots=NA; status=1; \
	elif [ "$$failed" != 0 ]; then status=1; fi; \
	if [ -z "$$p95" ]; then echo "dashboard: missing: bench-dashboard printed no 'dashboard-bench: p95_query_ms=' line"; p95=NA; status=1; fi; \
	[ "$$leaks" = 0 ] || status=1; \
	[ -z "$$browser" ] || echo "$$browser"; grep '^dashboard-bench: ' $(DEV)/dashboard-bench.log 2>/dev/null | tail -n 1; \
	echo "dashboard: routes=$$routes cross_tenant_leaks=$$leaks screenshots=$$shots p95_query_ms=$$p95"; \
	exit $$status

## test-unit: the fast tier, no services needed (integration tests skip).
test-unit:
	env -u PUSHPIPE_KAFKA -u PUSHPIPE_CLICKHOUSE -u PUSHPIPE_POSTGRES $(GO) test -race -shuffle=on -count=1 ./...

## test-browser: the browser SDK in real Chromium against separate ingest and stream processes.
## The last line is the summary `browser: passed=P failed=F sdk_gzip_bytes=B`; exits 0 only when F=0.
test-browser: dev-up
	@rm -f $(DEV)/browser-summary.txt; status=0; \
	$(DEVENV) && $(GO) test -race -count=1 -timeout 5m -v -run . ./ingest/sdk/browser/ -args -summary=$(abspath $(DEV))/browser-summary.txt || status=$$?; \
	cat $(DEV)/browser-summary.txt 2>/dev/null || { echo "browser: passed=0 failed=1 sdk_gzip_bytes=0"; [ $$status -ne 0 ] || status=1; }; \
	exit $$status

## test-dashboard-browser: the analyst's web page in real Chromium against separate ingest, stream and api
## processes and `pushpipe simulate` data: sign-up, log-in, every dashboard, a segment and a campaign made
## through the page; PNG screenshots at 1280x800 and 390x844 under .dev/screenshots/<run>/.
## The last line is `dashboard-browser: passed=P failed=F screenshots=S`; exits 0 only when F=0.
.PHONY: test-dashboard-browser
test-dashboard-browser: dev-up
	@rm -f $(DEV)/dashboard-browser-summary.txt; status=0; \
	$(DEVENV) && $(GO) test -race -count=1 -timeout 10m -v -run . ./dashboard-api/ui/browser/ \
		-args -summary=$(abspath $(DEV))/dashboard-browser-summary.txt -screenshots=$(abspath $(DEV))/screenshots || status=$$?; \
	cat $(DEV)/dashboard-browser-summary.txt 2>/dev/null || { echo "dashboard-browser: passed=0 failed=1 screenshots=0"; [ $$status -ne 0 ] || status=1; }; \
	exit $$status

## smoke: 20,000 beacons through separate ingest/stream/api processes, stream SIGKILLed once.
smoke: dev-up
	@$(DEVENV) && $(BIN) smoke

## e2e-automations: automations and campaigns through separate push service (https), ingest, stream,
## sender and api processes on an events topic and consumer groups of their own: welcome, abandoned cart, frequency cap, quiet
## hours, throttled campaign, attributed conversion, holdout. One `e2e:` line per scenario; the last
## line is `automations: scenarios=N failed=F p99_event_to_push_ms=X`; exits non-zero when F > 0.
e2e-automations: dev-up
	@$(DEVENV) && $(BIN) e2e-automations

## chaos: 2,500 events/s through ingest with a welcome and an event automation firing and a throttled
## campaign in flight; kill -9 in turn ingest, stream, sender, Kafka, ClickHouse and Postgres (on a dev
## stack of its own under .dev/chaos, so the shared one is not crashed), each restarted and recovered
## before the next. Last line `chaos: accepted=A stored=S duplicates=D lost=L double_sends=X
## max_recovery_s=T`; exits 0 only when S=A, D=0, L=0 and X=0.
.PHONY: chaos
chaos: dev-up
	@$(DEVENV) && $(BIN) chaos

## api-fuzz: schemathesis (pinned, from PyPI, in .dev/venv) against the OpenAPI document the api role serves at
## /openapi.yaml: a scratch site owned by a fresh account, the api role as a child process on a free port, one pass
## with a write API key over every operation and one with the owner's web session (cookie + X-CSRF-Token) over
## the account, site, key, member, audit and privacy operations. Checks: no 5xx, and status codes, content types,
## bodies and headers as the spec says. Config and reports in .dev/api-fuzz/<pass>/. Last line
## `api-fuzz: operations=N cases=C server_errors=E spec_violations=V`; exits 0 only when E=0 and V=0.
.PHONY: api-fuzz
SCHEMATHESIS_VER := 4.32.5
SCHEMATHESIS     := $(DEV)/venv/bin/schemathesis
$(DEV)/venv/.schemathesis-$(SCHEMATHESIS_VER):
	@mkdir -p $(DEV); echo "installing schemathesis==$(SCHEMATHESIS_VER) from PyPI into $(DEV)/venv (python3 -m venv; first time only)"
	@[ -x $(DEV)/venv/bin/pip ] || python3 -m venv $(DEV)/venv
	@$(DEV)/venv/bin/pip install --disable-pip-version-check --progress-bar off schemathesis==$(SCHEMATHESIS_VER) > $(DEV)/venv-install.log 2>&1 || { cat $(DEV)/venv-install.log; exit 1; }
	@grep -E '^(Successfully installed|Requirement already satisfied: schemathesis)' $(DEV)/venv-install.log || true
	@touch $@

api-fuzz: dev-up $(DEV)/venv/.schemathesis-$(SCHEMATHESIS_VER)
	@$(DEVENV) && $(BIN) api-fuzz -schemathesis $(SCHEMATHESIS)

## bench-ingest: steady offered load on POST /v1/events, Kafka on this machine.
bench-ingest: dev-up
	@$(DEVENV) && $(BIN) bench-ingest --out docs/BENCHMARKS.md

## bench-sender: pushes per CPU-second through encryption, VAPID and HTTP to the
## local test push service: pushpipe's send path against stock webpush-go, same run.
bench-sender:
	@mkdir -p $(DEV)
	@PUSHPIPE_BENCH_SENDER=1 $(GO) test -run '^TestBenchSender$$' -count=1 -v ./sender/ > $(DEV)/bench-sender.log 2>&1 || { cat $(DEV)/bench-sender.log; exit 1; }
	@grep '^sender-detail: ' $(DEV)/bench-sender.log || true
	@grep '^sender: ' $(DEV)/bench-sender.log | tail -n 1

## bench-segments: the incremental segment evaluator on one core (100 segments, 100,000
## subscribers; reference: re-evaluating from full history, same run), then the latency from
## ingest's 202 to segment_entered on Kafka at 2,000 events/s through separate ingest and stream.
## Last line: `segments: events_per_s_per_core=X bytes_per_subscriber=Y p99_event_to_transition_ms=Z`.
bench-segments: dev-up
	@mkdir -p $(DEV); status=0; log=$(DEV)/bench-segments.log; \
	PUSHPIPE_BENCH_SEGMENTS=1 $(GO) test -run '^TestBenchSegments$$' -count=1 -timeout 30m -v ./segments/ > $$log 2>&1 || { cat $$log; exit 1; }; \
	$(DEVENV) && $(BIN) bench-segments-latency >> $$log 2>&1 || { status=$$?; tail -n 20 $$log; }; \
	grep -E '^(segments-detail|mismatch): ' $$log || true; \
	lib=$$(grep '^segments-library: ' $$log | tail -n 1 | cut -d' ' -f2-); \
	p99=$$(grep '^segments-latency: ' $$log | tail -n 1 | sed -n 's/.*p99_event_to_transition_ms=\([^ ]*\).*/\1/p'); \
	if [ -z "$$p99" ] || [ "$$p99" = NA ]; then p99=NA; [ $$status -ne 0 ] || status=1; fi; \
	echo "segments: $$lib p99_event_to_transition_ms=$$p99"; \
	exit $$status

## bench-dashboard: loads PUSHPIPE_BENCH_DASHBOARD_EVENTS (default 10,000,000) simulated events of one site
## into a ClickHouse database of its own (one INSERT ... SELECT from numbers()), then runs every dashboard's
## queries PUSHPIPE_BENCH_DASHBOARD_RUNS times (default 20): one `dashboard-query:` line per dashboard with
## p50/p95, and raw_p50/raw_p95 of the same queries without the rollups where a rollup answers part of it.
## Last line `dashboard-bench: events=N runs=R queries=Q p95_query_ms=X` (p95 over every run of every query).
.PHONY: bench-dashboard
bench-dashboard: dev-up
	@mkdir -p $(DEV); log=$$(mktemp $(DEV)/bench-dashboard.XXXXXX); \
	( $(DEVENV) && PUSHPIPE_BENCH_DASHBOARD=1 $(GO) test -run '^TestBenchDashboard$$' -count=1 -timeout 60m -v ./dashboard-api/internal/stats/ ) > $$log 2>&1 || { cat $$log; mv $$log $(DEV)/bench-dashboard.log; exit 1; }; \
	mv $$log $(DEV)/bench-dashboard.log; grep -E '^dashboard-(query|bench): ' $(DEV)/bench-dashboard.log

## bench-sink: the stream sink end to end (events on a topic → stored) against a bare
## clickhouse-go batch insert of the same rows, same run. Last line `sink-bench: …`.
bench-sink: dev-up
	@mkdir -p $(DEV)
	@$(DEVENV) && PUSHPIPE_BENCH_SINK=1 $(GO) test -run '^TestBenchSink$$' -count=1 -timeout 30m -v ./stream/ > $(DEV)/bench-sink.log 2>&1 || { tail -n 40 $(DEV)/bench-sink.log; exit 1; }
	@grep '^sink-bench: ' $(DEV)/bench-sink.log | tail -n 1

## bench-restore: the segment evaluator's restore from ClickHouse against a bare scan, same run.
bench-restore: dev-up
	@mkdir -p $(DEV)
	@$(DEVENV) && PUSHPIPE_BENCH_RESTORE=1 $(GO) test -run '^TestBenchRestore$$' -count=1 -timeout 30m -v ./stream/internal/segrun/ > $(DEV)/bench-restore.log 2>&1 || { tail -n 40 $(DEV)/bench-restore.log; exit 1; }
	@grep '^restore-detail: ' $(DEV)/bench-restore.log | tail -n 1

## bench: every benchmark in turn, each beside its reference of the same run (ingest, sender,
## segments, sink, restore, event → push, dashboard queries), then the section "Latest make
## bench" of docs/BENCHMARKS.md is rewritten with their summary lines and the machine.
BENCH_TARGETS = bench-ingest bench-sender bench-segments bench-sink bench-restore e2e-automations bench-dashboard
bench: dev-up
	@mkdir -p $(DEV); out=$(DEV)/bench-all.txt; : > $$out; status=0; \
	for t in $(BENCH_TARGETS); do echo "bench: $$t"; \
		$(MAKE) --no-print-directory $$t > $(DEV)/bench-$$t.out 2>&1 || { status=1; echo "bench: $$t failed (see $(DEV)/bench-$$t.out)"; }; \
		grep -E '^(ingest-bench|bench-ingest|sender|segments|sink-bench|restore-detail|automations|dashboard-bench)[a-z-]*: ' $(DEV)/bench-$$t.out | grep -v 'recorded in' | tail -n 1 | sed "s/^/- \`$$t\`: \`/; s/$$/\`/" >> $$out; \
		grep -E '^[a-z-]+: .*(reference|kafka-only|webpush-go|raw_p95|raw_clickhouse)' $(DEV)/bench-$$t.out | grep -v -e 'recorded in' -e '^sink-bench' -e '^restore-detail' -e '^sender: ' -e 'offered=' | sed 's/^/  - reference: `/; s/$$/`/' >> $$out; \
		tail -n 1 $(DEV)/bench-$$t.out; \
	done; \
	{ echo '<!-- make bench: begin -->'; echo '## Latest `make bench`'; echo; \
	  echo "$$(date -u '+%Y-%m-%d %H:%M') UTC, $$(nproc) cores, $$(free -g | awk '/Mem:/{print $$2}') GiB, $$($(GO) env GOVERSION); each line is the benchmark's own summary (its reference is in the sections below):"; echo; \
	  cat $$out; echo '<!-- make bench: end -->'; } > $(DEV)/bench-section.md; \
	awk -v sect=$(DEV)/bench-section.md 'BEGIN{while((getline l < sect)>0) s=s l "\n"} /<!-- make bench: begin -->/{printf "%s", s; skip=1; next} /<!-- make bench: end -->/{skip=0; next} !skip' docs/BENCHMARKS.md > $(DEV)/BENCHMARKS.md.new; \
	grep -q 'make bench: begin' $(DEV)/BENCHMARKS.md.new || { head -n 5 docs/BENCHMARKS.md; echo; cat $(DEV)/bench-section.md; echo; tail -n +6 docs/BENCHMARKS.md; } > $(DEV)/BENCHMARKS.md.new2; \
	[ -s $(DEV)/BENCHMARKS.md.new2 ] && mv $(DEV)/BENCHMARKS.md.new2 docs/BENCHMARKS.md || mv $(DEV)/BENCHMARKS.md.new docs/BENCHMARKS.md; rm -f $(DEV)/BENCHMARKS.md.new $(DEV)/BENCHMARKS.md.new2; \
	echo "bench: docs/BENCHMARKS.md rewritten (section 'Latest make bench')"; exit $$status

## segments-equivalence: random worlds of events and rules stored in the real ClickHouse;
## the incremental evaluator must equal the compiled SQL at every (rule, subscriber, instant).
## Last line: `equivalence: checks=N mismatches=M`; exits non-zero on any mismatch.
segments-equivalence: dev-up
	@mkdir -p $(DEV); status=0; \
	$(DEVENV) && $(GO) test -count=1 -v -run '^TestEquivalenceWithClickHouse$$' ./segments/ -args -equivalence-checks=$${CHECKS:-12000} > $(DEV)/equivalence.log 2>&1 || status=$$?; \
	grep -E '^(mismatch|    |  )' $(DEV)/equivalence.log | head -n 80; \
	if grep -q '^equivalence: ' $(DEV)/equivalence.log; then grep '^equivalence: ' $(DEV)/equivalence.log | tail -n 1; \
	else tail -n 30 $(DEV)/equivalence.log; echo "equivalence: the test did not run (see above)"; status=1; fi; \
	exit $$status

$(GOLANGCI):
	@mkdir -p $(DEV)/bin
	@echo "installing golangci-lint $(GOLANGCI_VER) into $(DEV)/bin (first time only)"
	GOBIN=$(abspath $(DEV)/bin) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VER)

lint: $(GOLANGCI)
	$(GO) mod tidy -diff
	$(GOLANGCI) run ./...

clean: dev-down
	rm -rf bin
