// Package ui holds the analyst's web page of the dashboard API: one HTML
// shell, plain ES modules under js/, one CSS file and the vendored chart
// library (uPlot) under vendor/, with no build step. The files are embedded
// in the binary; package api serves them at / and /ui/.
//
// The page is a client of the public REST API only: it logs in with a
// cookie session, reads GET /v1/me for the caller's sites and the CSRF
// token, and sends that token in the X-CSRF-Token header of every unsafe
// request. Every refused request shows the API's problems next to the form
// or table it came from. Nothing is rendered with innerHTML: data reaches
// the document as text nodes only.
//
// The browser tests are in the browser subpackage (make test-dashboard-browser).
package ui
