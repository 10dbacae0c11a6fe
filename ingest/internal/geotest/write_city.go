package geotest

import (
	"fmt"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Place is what the database says about one network.
type Place struct {
	Network   string // CIDR, such as 192.0.2.0/24 or 2001:db8::/32
	Country   string // ISO 3166-1 alpha-2
	Region    string // English name of the first subdivision
	RegionISO string
	City      string // English name
}

// WriteCity writes a GeoLite2-City shaped database holding places to path.
// Reserved networks (the documentation ranges) are allowed, so tests can use them.
func WriteCity(path string, places ...Place) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-City",
		Languages:               []string{"en"},
		IncludeReservedNetworks: true,
		RecordSize:              24,
	})
	if err != nil {
		return fmt.Errorf("new mmdb tree: %w", err)
	}
	for _, p := range places {
		_, network, err := net.ParseCIDR(p.Network)
		if err != nil {
			return fmt.Errorf("place %s: %w", p.Network, err)
		}
		if err := tree.Insert(network, record(p)); err != nil {
			return fmt.Errorf("insert %s: %w", p.Network, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create mmdb: %w", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write mmdb: %w", err)
	}
	return f.Close()
}

func record(p Place) mmdbtype.Map {
	names := func(en string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(en)} }
	return mmdbtype.Map{
		"country": mmdbtype.Map{"iso_code": mmdbtype.String(p.Country), "names": names(p.Country)},
		"city":    mmdbtype.Map{"names": names(p.City)},
		"subdivisions": mmdbtype.Slice{
			mmdbtype.Map{"iso_code": mmdbtype.String(p.RegionISO), "names": names(p.Region)},
		},
	}
}
