package enrich

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/pushpipe/pushpipe/schemas"
)

// Geo looks up country, region and city in a MaxMind City (or Country)
// database. A nil *Geo looks up nothing. Safe for concurrent use.
type Geo struct{ r *geoip2.Reader }

// OpenGeo opens the .mmdb file at path and checks that it answers City lookups.
func OpenGeo(path string) (*Geo, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geoip database %s: %w", path, err)
	}
	if _, err := r.City(netip.AddrFrom4([4]byte{1, 1, 1, 1})); err != nil {
		kind := r.Metadata().DatabaseType
		_ = r.Close()
		var wrong geoip2.InvalidMethodError
		if errors.As(err, &wrong) {
			return nil, fmt.Errorf("geoip database %s is a %s database; a City or Country database is needed", path, kind)
		}
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return &Geo{r: r}, nil
}

// Lookup returns where a is, as far as the database knows; empty when unknown.
func (g *Geo) Lookup(a netip.Addr) schemas.Geo {
	if g == nil || !a.IsValid() {
		return schemas.Geo{}
	}
	c, err := g.r.City(a.Unmap().WithZone(""))
	if err != nil || c == nil {
		return schemas.Geo{}
	}
	out := schemas.Geo{Country: c.Country.ISOCode, City: c.City.Names.English}
	if len(c.Subdivisions) > 0 {
		out.Region = c.Subdivisions[0].Names.English
		if out.Region == "" {
			out.Region = c.Subdivisions[0].ISOCode
		}
	}
	return out
}

// Close releases the database; a nil *Geo has nothing to release.
func (g *Geo) Close() error {
	if g == nil {
		return nil
	}
	return g.r.Close()
}
