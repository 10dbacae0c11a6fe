// Package geotest writes tiny MaxMind City databases (.mmdb) for tests, with
// github.com/maxmind/mmdbwriter, so GeoIP enrichment is tested against the
// real reader and file format without shipping MaxMind's data.
package geotest
