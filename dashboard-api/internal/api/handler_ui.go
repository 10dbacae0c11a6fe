package api

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pushpipe/pushpipe/dashboard-api/ui"
)

// Paths of the web page.
const (
	PathUI      = "/"
	PathUIFiles = "/ui/*file"
)

// contentSecurityPolicy allows the page's own files and API only: no inline
// script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Cache policies: the page and its modules are revalidated on every load
// (their ETag answers 304); vendored files carry their version in the path.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// uiTypes maps the extensions of the page's files to their content types.
var uiTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// uiFile is one embedded file, ready to serve.
type uiFile struct {
	body  []byte
	ctype string
	etag  string
	cache string
}

// loadUI reads every servable file of the page, keyed by its path in fsys.
func loadUI(fsys fs.FS) (map[string]uiFile, error) {
	out := map[string]uiFile{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := uiTypes[path.Ext(p)]
		if !ok {
			return nil // licences and READMEs: in the binary, not served
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		cache := cacheRevalidate
		if strings.HasPrefix(p, "vendor/") {
			cache = cacheImmutable
		}
		out[p] = uiFile{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: cache}
		return nil
	})
	return out, err
}

// registerUI serves the web page at / and its files under /ui/.
func registerUI(e *gin.Engine, h *handlers) {
	files, err := loadUI(ui.Files())
	if err != nil { // the files are embedded: only a broken build gets here
		h.log.Error("web page files unreadable; not serving the page", "err", err)
		return
	}
	index := func(c *gin.Context) { serveUIFile(c, files, "index.html") }
	file := func(c *gin.Context) { serveUIFile(c, files, strings.TrimPrefix(c.Param("file"), "/")) }
	e.GET(PathUI, index)
	e.HEAD(PathUI, index)
	e.GET(PathUIFiles, file)
	e.HEAD(PathUIFiles, file)
}

func serveUIFile(c *gin.Context, files map[string]uiFile, name string) {
	f, ok := files[name]
	if !ok || name == "index.html" && c.Request.URL.Path != PathUI {
		refuse(c, http.StatusNotFound, Problem{"", "no such file of the web page"})
		return
	}
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", f.cache)
	hd.Set("ETag", f.etag)
	if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, f.ctype, f.body)
}
