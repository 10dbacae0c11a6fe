package ui

import (
	"embed"
	"io/fs"
)

//go:embed index.html app.css js vendor
var files embed.FS

// Files returns the page's files: index.html, app.css, js/*.js and vendor/**.
func Files() fs.FS { return files }
