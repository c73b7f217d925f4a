package server

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientAddr: any connection address and X-Forwarded-For headers give
// the connection's address, or, behind trusted proxies only, the rightmost
// forwarded address that is not a trusted proxy's (or the leftmost one read
// before an unreadable entry); never a panic, and a rate-limit key that
// reads back as the address or, for IPv6, its /64.
func FuzzClientAddr(f *testing.F) {
	for _, s := range [][3]string{
		{"203.0.113.7:5000", "", ""},
		{"10.0.0.1:5000", "198.51.100.2", ""},
		{"10.0.0.1:5000", "1.1.1.1, 10.0.0.2", "9.9.9.9"},
		{"[::1]:5000", "2001:db8::1%eth0, ::ffff:10.0.0.3", ""},
		{"10.0.0.1:5000", "garbage, 10.0.0.9", ""},
		{"[::ffff:10.0.0.1]:1", ",,", "fe80::1%x"},
		{"10.0.0.1", "", ""}, {"", "1.2.3.4", ""}, {"[fe80::1%lo]:80", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	}}}
	f.Fuzz(func(t *testing.T, remote, xff1, xff2 string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, v := range []string{xff1, xff2} {
			if v != "" {
				r.Header.Add("X-Forwarded-For", v)
			}
		}
		a, ok := s.clientAddr(r)
		key := s.clientKey(r)
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		conn, cerr := netip.ParseAddr(host)
		if cerr != nil {
			if ok {
				t.Fatalf("unreadable connection address %q gave %v", remote, a)
			}
			return
		}
		conn = conn.Unmap()
		if !ok || !a.IsValid() {
			t.Fatalf("%q: no address", remote)
		}
		if !s.trusted(conn) {
			if a != conn {
				t.Fatalf("%q, not a proxy, gave %v", remote, a)
			}
		} else {
			// The chain from the right: trusted entries, then the answer.
			var chain []string
			for _, v := range []string{xff2, xff1} {
				if v == "" {
					continue
				}
				parts := strings.Split(v, ",")
				for j := len(parts) - 1; j >= 0; j-- {
					chain = append(chain, strings.TrimSpace(parts[j]))
				}
			}
			want := conn
			for _, e := range chain {
				x, err := netip.ParseAddr(e)
				if err != nil {
					break
				}
				want = x.Unmap()
				if !s.trusted(want) {
					break
				}
			}
			if a != want {
				t.Fatalf("%q via %q, %q gave %v, want %v", remote, xff1, xff2, a, want)
			}
		}
		if a.Is6() {
			p, err := netip.ParsePrefix(key)
			if err != nil || p.Bits() != 64 || !p.Contains(a.WithZone("")) {
				t.Fatalf("key %q for %v (%v)", key, a, err)
			}
		} else if k, err := netip.ParseAddr(key); err != nil || k != a {
			t.Fatalf("key %q for %v (%v)", key, a, err)
		}
	})
}
