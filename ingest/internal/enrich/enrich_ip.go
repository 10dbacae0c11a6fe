package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Proxies are the networks whose X-Forwarded-For header is believed.
type Proxies []netip.Prefix

// ParseProxies reads CIDRs (a bare address means just that address),
// reporting every one that does not parse.
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	var errs []error
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		errs = append(errs, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an IP address", s))
	}
	return out, errors.Join(errs...)
}

func (p Proxies) trusts(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client: the peer (remoteAddr, as in
// http.Request) unless the peer is a trusted proxy, in which case the
// X-Forwarded-For chain is walked from the right, past trusted proxies, to
// the first address that is not one. A malformed entry stops the walk at the
// last address vouched for. The result is invalid when remoteAddr is unusable.
func (p Proxies) ClientIP(remoteAddr string, forwardedFor []string) netip.Addr {
	cur := parseHost(remoteAddr)
	if !cur.IsValid() || len(p) == 0 || len(forwardedFor) == 0 {
		return cur
	}
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		hops := strings.Split(forwardedFor[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			if !p.trusts(cur) {
				return cur
			}
			next := parseHost(strings.TrimSpace(hops[j]))
			if !next.IsValid() {
				return cur
			}
			cur = next
		}
	}
	return cur
}

// parseHost reads "ip", "ip:port" or "[ipv6]:port", unmapping IPv4-in-IPv6.
func parseHost(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

// Anonymization keeps these many leading bits of an address.
const (
	KeepBitsIPv4 = 24
	KeepBitsIPv6 = 48
)

// Anonymize zeroes the host part of a: IPv4 keeps its /24, IPv6 its /48.
func Anonymize(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	a = a.Unmap()
	bits := KeepBitsIPv6
	if a.Is4() {
		bits = KeepBitsIPv4
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return netip.Addr{}
	}
	return p.Addr()
}
