package enrich

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/ingest/internal/geotest"
	"github.com/pushpipe/pushpipe/schemas"
)

func TestGeoLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	require.NoError(t, geotest.WriteCity(path,
		geotest.Place{Network: "203.0.113.0/24", Country: "AT", Region: "Vienna", RegionISO: "9", City: "Vienna"},
		geotest.Place{Network: "2001:db8:abcd::/48", Country: "JP", RegionISO: "13", City: "Tokyo"},
	))
	g, err := OpenGeo(path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, g.Close()) })

	require.Equal(t, schemas.Geo{Country: "AT", Region: "Vienna", City: "Vienna"}, g.Lookup(netip.MustParseAddr("203.0.113.77")))
	require.Equal(t, schemas.Geo{Country: "AT", Region: "Vienna", City: "Vienna"}, g.Lookup(netip.MustParseAddr("::ffff:203.0.113.77")))
	require.Equal(t, schemas.Geo{Country: "JP", Region: "13", City: "Tokyo"}, g.Lookup(netip.MustParseAddr("2001:db8:abcd:1::1")),
		"a region without an English name falls back to its ISO code")
	require.Equal(t, schemas.Geo{}, g.Lookup(netip.MustParseAddr("198.51.100.1")), "unknown network")
	require.Equal(t, schemas.Geo{}, g.Lookup(netip.Addr{}))

	var none *Geo
	require.Equal(t, schemas.Geo{}, none.Lookup(netip.MustParseAddr("203.0.113.77")))
	require.NoError(t, none.Close())
}

func TestOpenGeoErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenGeo(filepath.Join(dir, "missing.mmdb"))
	require.ErrorContains(t, err, "open geoip database")

	junk := filepath.Join(dir, "junk.mmdb")
	require.NoError(t, os.WriteFile(junk, []byte("not a database"), 0o600))
	_, err = OpenGeo(junk)
	require.ErrorContains(t, err, "open geoip database")

	asn := filepath.Join(dir, "asn.mmdb")
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24})
	require.NoError(t, err)
	f, err := os.Create(asn)
	require.NoError(t, err)
	_, err = tree.WriteTo(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = OpenGeo(asn)
	require.ErrorContains(t, err, "is a GeoLite2-ASN database; a City or Country database is needed")
}
