package enrich

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAnonymize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0"},
		{"198.51.100.255", "198.51.100.0"},
		{"::ffff:203.0.113.77", "203.0.113.0"},
		{"2001:db8:abcd:12:34:56:78:9a", "2001:db8:abcd::"},
		{"2001:db8:abcd:ffff::1", "2001:db8:abcd::"},
		{"fe80::1%eth0", "fe80::"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Anonymize(netip.MustParseAddr(tt.in)).String(), tt.in)
	}
	require.False(t, Anonymize(netip.Addr{}).IsValid())
}

func TestParseProxies(t *testing.T) {
	p, err := ParseProxies([]string{"10.0.0.0/8", " 192.168.1.7 ", "fd00::/8", "10.1.2.3/16"})
	require.NoError(t, err)
	require.Equal(t, Proxies{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.1.0.0/16"),
	}, p)

	_, err = ParseProxies([]string{"10.0.0.0/33", "proxy.local", "10.0.0.1"})
	require.ErrorContains(t, err, `"10.0.0.0/33" is neither a CIDR`)
	require.ErrorContains(t, err, `"proxy.local" is neither a CIDR`)
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "2001:db8:ff::/48"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		proxies Proxies
		remote  string
		xff     []string
		want    string
	}{
		{"direct v4", proxies, "203.0.113.9:5123", nil, "203.0.113.9"},
		{"direct v6", proxies, "[2001:db8::9]:5123", nil, "2001:db8::9"},
		{"mapped v4", proxies, "[::ffff:203.0.113.9]:1", nil, "203.0.113.9"},
		{"untrusted peer's header ignored", proxies, "203.0.113.9:1", []string{"198.51.100.1"}, "203.0.113.9"},
		{"no proxies configured", nil, "10.0.0.1:1", []string{"198.51.100.1"}, "10.0.0.1"},
		{"trusted proxy", proxies, "10.0.0.1:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed left entries skipped", proxies, "10.0.0.1:1", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", proxies, "10.0.0.1:1", []string{"198.51.100.1, 10.9.9.9", "10.5.5.5"}, "198.51.100.1"},
		{"all trusted: leftmost", proxies, "10.0.0.1:1", []string{"10.0.0.2, 10.0.0.3"}, "10.0.0.2"},
		{"malformed entry stops the walk", proxies, "10.0.0.1:1", []string{"198.51.100.1, garbage"}, "10.0.0.1"},
		{"v6 proxy", proxies, "[2001:db8:ff::1]:1", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"entry with port", proxies, "10.0.0.1:1", []string{"198.51.100.1:443"}, "198.51.100.1"},
		{"bad remote", proxies, "pipe", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.proxies.ClientIP(tt.remote, tt.xff).String())
		})
	}
}
