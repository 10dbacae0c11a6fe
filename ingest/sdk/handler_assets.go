package sdk

import (
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Register mounts the files on g, such as engine.Group("/sdk/v1"): GET and
// HEAD /pushpipe.js, /sw.js and /demo.html.
func (a *Assets) Register(g gin.IRoutes) {
	h := gin.WrapH(a)
	for _, sp := range specs {
		g.GET("/"+sp.name, h)
		g.HEAD("/"+sp.name, h)
	}
}

// ServeHTTP serves the file named by the last element of the request path:
// gzip-encoded when the client accepts it, 304 when If-None-Match names the
// current version, 404 for an unknown name, 405 for a method other than GET
// or HEAD.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[path.Base(r.URL.Path)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	for k, v := range f.header {
		h.Set(k, v)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	body, etag := f.identity, f.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = f.gzipped, f.etagGzip
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if noneMatch(r.Header.Get("If-None-Match"), f.etag, f.etagGzip) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client went away: nothing to do
	}
}

// noneMatch reports whether an If-None-Match header names one of the
// current ETags (or is "*"). The comparison is weak (RFC 9110 13.1.2): a
// W/ prefix is ignored, so an ETag a proxy weakened still matches.
func noneMatch(header string, etags ...string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" {
			return true
		}
		for _, e := range etags {
			if tag == e {
				return true
			}
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding (RFC 9110 12.5.3): gzip is acceptable
// when listed, or covered by "*", with a q-value above zero; an explicit
// gzip entry wins over "*".
func acceptsGzip(header string) bool {
	gz, star := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := qValue(params)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			gz = q
		case "*":
			star = q
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// qValue is the q parameter of an Accept-Encoding entry, 1 when absent and
// 0 when malformed.
func qValue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 {
			return 0
		}
		return q
	}
	return 1
}
