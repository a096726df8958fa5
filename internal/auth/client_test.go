package auth

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientOf(t *testing.T) {
	proxies, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.1", " 2001:db8::/32 "})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		proto        string
		tls          bool
		want         string
		https        bool
	}{
		{"direct", "203.0.113.5:4000", nil, "", false, "203.0.113.5", false},
		{"direct TLS", "203.0.113.5:4000", nil, "", true, "203.0.113.5", true},
		{"untrusted peer's headers ignored", "203.0.113.5:4000", []string{"198.51.100.9"}, "https", false, "203.0.113.5", false},
		{"one trusted proxy", "10.1.2.3:80", []string{"198.51.100.9"}, "https", false, "198.51.100.9", true},
		{"forged left entries ignored", "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.9"}, "https", false, "198.51.100.9", true},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"198.51.100.9, 10.9.9.9", "192.0.2.1"}, "", false, "198.51.100.9", false},
		{"all hops trusted", "10.1.2.3:80", []string{"10.0.0.7"}, "", false, "10.0.0.7", false},
		{"garbage from a trusted hop", "10.1.2.3:80", []string{"unknown, 10.0.0.7"}, "", false, "10.0.0.7", false},
		{"hop with port", "10.1.2.3:80", []string{"198.51.100.9:5555"}, "", false, "198.51.100.9", false},
		{"IPv6 client", "[2001:db8::1]:443", []string{"[2001:db9::7]:1234"}, "HTTPS", false, "2001:db9::7", true},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:80", []string{"198.51.100.9"}, "", false, "198.51.100.9", false},
		{"rightmost proto wins", "10.1.2.3:80", []string{"198.51.100.9"}, "https, http", false, "198.51.100.9", false},
		{"proxy says http over TLS hop", "10.1.2.3:80", nil, "http", true, "10.1.2.3", false},
		{"no header: the proxy itself", "10.1.2.3:80", nil, "", false, "10.1.2.3", false},
		{"unparseable peer", "@", nil, "", false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			c := ClientOf(r, proxies)
			if c.String() != tc.want || c.HTTPS != tc.https {
				t.Errorf("client %q https %v; want %q, %v", c.String(), c.HTTPS, tc.want, tc.https)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	ps, err := ParseTrustedProxies([]string{"10.1.2.3/8", "::1"})
	if err != nil || ps[0].String() != "10.0.0.0/8" || ps[1].String() != "::1/128" {
		t.Errorf("= %v, %v", ps, err)
	}
	_, err = ParseTrustedProxies([]string{"10.0.0.0/8", "localhost"})
	if err == nil || !strings.Contains(err.Error(), `trusted_proxies[1]: "localhost"`) {
		t.Errorf("bad entry: %v", err)
	}
}
