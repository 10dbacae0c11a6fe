// Package sdk serves the Pushpipe browser SDK: pushpipe.js (the page
// script that defines window.pushpipe), sw.js (the service worker) and
// demo.html (a page that exercises both). The JavaScript sources are
// embedded, minified once by New with esbuild's Go API, gzip-encoded once,
// and served with the headers of the contract in README.md (ETag, 304 on
// If-None-Match, Cache-Control per file, Service-Worker-Allowed for sw.js).
//
// Usage: a, err := sdk.New(); a.Register(engine.Group("/sdk/v1")).
// Assets is also an http.Handler serving the files by the last element of
// the request path.
//
// It does not: bundle or transpile (the sources are plain ES2020 and must
// stay dependency-free), read files at run time, or know about sites (the
// scripts are public and need no site key).
package sdk
