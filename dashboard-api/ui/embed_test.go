package ui

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPageReferencesResolve: every file index.html loads, and every module
// a module imports, is embedded (a typo would be a blank page).
func TestPageReferencesResolve(t *testing.T) {
	files := Files()
	index, err := fs.ReadFile(files, "index.html")
	require.NoError(t, err)
	refs := regexp.MustCompile(`(?:src|href)="/ui/([^"]+)"`).FindAllStringSubmatch(string(index), -1)
	require.GreaterOrEqual(t, len(refs), 4, "index.html loads the chart library, its styles, the page's styles and main.js")
	for _, m := range refs {
		_, err := fs.Stat(files, m[1])
		require.NoError(t, err, "index.html loads /ui/%s", m[1])
	}

	imports := regexp.MustCompile(`(?m)^import [^;]*? from '(\./[^']+)';`)
	modules, err := fs.Glob(files, "js/*.js")
	require.NoError(t, err)
	require.NotEmpty(t, modules)
	for _, mod := range modules {
		src, err := fs.ReadFile(files, mod)
		require.NoError(t, err)
		for _, m := range imports.FindAllStringSubmatch(string(src), -1) {
			target := path.Join(path.Dir(mod), m[1])
			_, err := fs.Stat(files, target)
			require.NoError(t, err, "%s imports %s", mod, m[1])
		}
	}
}

// TestModulesNeverParseHTML: data reaches the document as text only, so no
// module may use the APIs that parse HTML strings.
func TestModulesNeverParseHTML(t *testing.T) {
	modules, err := fs.Glob(Files(), "js/*.js")
	require.NoError(t, err)
	for _, mod := range modules {
		src, err := fs.ReadFile(Files(), mod)
		require.NoError(t, err)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			require.False(t, strings.Contains(string(src), bad), "%s uses %s", mod, bad)
		}
	}
}

// TestVendoredLibraryKeepsItsLicence: the chart library ships with its licence.
func TestVendoredLibraryKeepsItsLicence(t *testing.T) {
	lic, err := fs.ReadFile(Files(), "vendor/uplot-1.6.32/LICENSE")
	require.NoError(t, err)
	require.Contains(t, string(lic), "MIT License")
}
