package sdk

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

//go:embed pushpipe.js sw.js demo.html
var sources embed.FS

// The files served, by name (the last element of their path under /sdk/v1/).
const (
	FileSDK    = "pushpipe.js"
	FileWorker = "sw.js"
	FileDemo   = "demo.html"
)

// MaxSDKGzipBytes is the size budget of pushpipe.js, minified and gzipped.
const MaxSDKGzipBytes = 12 << 10

// Response headers (README.md, "Serving").
const (
	contentTypeJS   = "text/javascript; charset=utf-8"
	contentTypeHTML = "text/html; charset=utf-8"
	cacheSDK        = "public, max-age=3600, stale-while-revalidate=86400"
	cacheRecheck    = "no-cache" // browsers must re-check service workers; the demo is small
)

// Size is how large a served file is, in bytes.
type Size struct {
	Source   int // as embedded
	Minified int // as served without compression
	Gzip     int // as served with Content-Encoding: gzip
}

// Assets holds the served files, minified and compressed. It is safe for
// concurrent use.
type Assets struct {
	files map[string]*asset
}

// asset is one file ready to serve.
type asset struct {
	header   map[string]string // fixed response headers
	identity []byte
	gzipped  []byte
	etag     string // of identity
	etagGzip string // of gzipped: another representation, another strong validator
	source   int
}

// spec says how a file is prepared and served.
type spec struct {
	name   string
	minify bool
	header map[string]string
}

var specs = []spec{
	{FileSDK, true, map[string]string{
		"Content-Type": contentTypeJS, "Cache-Control": cacheSDK, "Access-Control-Allow-Origin": "*",
	}},
	{FileWorker, true, map[string]string{
		"Content-Type": contentTypeJS, "Cache-Control": cacheRecheck, "Access-Control-Allow-Origin": "*",
		"Service-Worker-Allowed": "/",
	}},
	{FileDemo, false, map[string]string{"Content-Type": contentTypeHTML, "Cache-Control": cacheRecheck}},
}

// New minifies and compresses the embedded files. An error means an
// embedded source does not parse.
func New() (*Assets, error) {
	a := &Assets{files: make(map[string]*asset, len(specs))}
	var errs []error
	for _, sp := range specs {
		f, err := prepare(sp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.files[sp.name] = f
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

func prepare(sp spec) (*asset, error) {
	src, err := sources.ReadFile(sp.name)
	if err != nil {
		return nil, fmt.Errorf("sdk: read embedded %s: %w", sp.name, err)
	}
	body := src
	if sp.minify {
		if body, err = Minify(sp.name, src); err != nil {
			return nil, err
		}
	}
	gz, err := compress(body)
	if err != nil {
		return nil, fmt.Errorf("sdk: gzip %s: %w", sp.name, err)
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	return &asset{
		header: sp.header, identity: body, gzipped: gz,
		etag: `"` + tag + `"`, etagGzip: `"` + tag + `-gzip"`, source: len(src),
	}, nil
}

// Minify minifies JavaScript the way ingest serves it: whitespace,
// identifiers and syntax, for ES2020 browsers. name is for error messages.
func Minify(name string, src []byte) ([]byte, error) {
	res := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Sourcefile:        name,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("sdk: minify %s: %s", name, strings.TrimSpace(strings.Join(msgs, "\n")))
	}
	return res.Code, nil
}

func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Size reports the sizes of a served file; ok is false for an unknown name.
func (a *Assets) Size(name string) (s Size, ok bool) {
	f, ok := a.files[name]
	if !ok {
		return Size{}, false
	}
	return Size{Source: f.source, Minified: len(f.identity), Gzip: len(f.gzipped)}, true
}

// SDKGzipSize is the size of pushpipe.js as served gzipped, the figure the
// MaxSDKGzipBytes budget is about.
func (a *Assets) SDKGzipSize() int {
	return len(a.files[FileSDK].gzipped)
}
