// Package browser holds the real-browser tests of the analyst's web page
// (dashboard-api/ui). It has no code of its own besides this file: the tests
// build the pushpipe binary, run its ingest, stream and api roles as
// separate processes on free ports against the local stack (an events topic
// of their own), drive Debian's Chromium (/usr/bin/chromium) through
// chromedp, and check what the page shows against data the test sent.
//
// The run: sign up on the page, create a site on the page, send it a week of
// simulated traffic with `pushpipe simulate` (and the push_delivered /
// push_clicked beacons a service worker would send for a campaign and an
// automation), log out and in again, create a segment (its live preview
// count must be above zero, explain a member) and a campaign through the
// page, create an automation whose refused definition shows its problem at
// the line of its path, open every dashboard and require data in it
// (non-empty tables, drawn charts, CSV links that answer text/csv), change
// the interval, fold the navigation on a phone, open the subscriber list and
// a timeline and the settings, and invite a viewer who accepts in a browser
// of their own and is refused a change with the API's problem. Every page is saved as a PNG at 1280x800 and at 390x844 under
// .dev/screenshots/<run>/ (the -screenshots flag). A JavaScript exception
// or a Content-Security-Policy violation on any page fails the run, and so
// does any request to another origin than the API's.
//
// Run with `make test-dashboard-browser`: its last line is
// `dashboard-browser: passed=P failed=F screenshots=S`, written by TestMain
// to the file named by the -summary flag.
package browser
