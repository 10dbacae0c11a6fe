// Package browser holds the real-browser tests of the Pushpipe browser SDK
// (ingest/sdk: pushpipe.js, sw.js, demo.html), written against the contract in
// ingest/sdk/README.md. It has no code of its own besides this file: the
// tests build the pushpipe binary, run its ingest and stream roles as
// separate processes on free ports against the local stack, drive Debian's
// Chromium (/usr/bin/chromium) through chromedp on the demo page that ingest
// serves, and assert every outcome through the real pipeline by polling the
// ClickHouse events and subscribers tables for a fresh site.
//
// What it does not do: contact a real push service (PushManager.subscribe is
// stubbed in the page, since that needs the internet), or click a system
// notification (CDP cannot; a NotificationEvent dispatched in the service
// worker stands in for the click). Every network request of the page and of
// the service worker is recorded, and one to any origin other than ingest's
// fails the scenario; host resolution is also mapped away from the internet.
//
// Run with `make test-browser`: its last line is
// `browser: passed=P failed=F sdk_gzip_bytes=B`, written by TestMain to the
// file named by the -summary flag.
package browser
