package auth

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Client is what Candor believes about the other end of a request.
type Client struct {
	// Addr is the client's address: the peer's, or behind trusted proxies
	// the address they report. Zero when unknown.
	Addr netip.Addr
	// HTTPS reports whether the client used HTTPS: the connection's TLS,
	// or behind a trusted proxy its X-Forwarded-Proto.
	HTTPS bool
}

// String is the address as recorded in access events; "" when unknown.
func (c Client) String() string {
	if !c.Addr.IsValid() {
		return ""
	}
	return c.Addr.String()
}

// ParseTrustedProxies reads CIDRs ("10.0.0.0/8") or single addresses
// ("127.0.0.1", taken as /32 or /128), naming the bad entry.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies[%d]: %q is not a CIDR such as 10.0.0.0/8 or an address", i, s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:5678", "[2001:db8::1]:80").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap(), err == nil
}

// ClientOf works out the client of r. The peer's X-Forwarded-For and
// X-Forwarded-Proto are believed only when the peer is a trusted proxy;
// then X-Forwarded-For is read from the right (each proxy appends the
// address it saw) and the first address that is not a trusted proxy is
// the client, so a client cannot pose as another by sending the header
// itself. X-Forwarded-Proto's rightmost value is the one the nearest proxy
// set.
func ClientOf(r *http.Request, proxies []netip.Prefix) Client {
	peer, ok := parseHop(r.RemoteAddr)
	c := Client{HTTPS: r.TLS != nil}
	if !ok {
		return c
	}
	c.Addr = peer
	if !trusted(peer, proxies) {
		return c
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// A trusted proxy passed on something that is no address:
			// the nearest address known is the best there is.
			break
		}
		c.Addr = a
		if !trusted(a, proxies) {
			break
		}
	}
	if vs := r.Header.Values("X-Forwarded-Proto"); len(vs) > 0 {
		parts := strings.Split(vs[len(vs)-1], ",")
		if p := strings.ToLower(strings.TrimSpace(parts[len(parts)-1])); p != "" {
			c.HTTPS = p == "https"
		}
	}
	return c
}
