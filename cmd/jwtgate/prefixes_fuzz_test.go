package main

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// FuzzParsePrefixes: --trusted-proxies is refused, or every item becomes
// one masked prefix, and an address is trusted exactly when net, reading
// the same items, puts it in one of them, IPv4 and IPv4-mapped IPv6 being
// the one address (as the service reads client addresses); an IPv6 range
// shorter than /96 holds IPv6 clients only.
func FuzzParsePrefixes(f *testing.F) {
	for _, s := range [][2]string{
		{"10.0.0.0/8, ::1", "10.1.2.3"},
		{"192.0.2.1,2001:db8::/32", "2001:db8::5"},
		{"::ffff:10.0.0.0/104", "10.0.0.7"},
		{"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
		{"::ffff:0.0.0.0/80", "::1"},
		{"10.0.0.1/8", "10.0.0.1"},
		{"fe80::1%eth0", "fe80::1"},
		{",, ,", "1.2.3.4"},
		{"0.0.0.0/0", "::ffff:1.2.3.4"},
		{"::/0", "1.2.3.4"},
		{"10.0.0.0/33", "10.0.0.1"},
		{"010.0.0.1", "10.0.0.1"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, addr string) {
		ps, err := parsePrefixes(list)
		if err != nil {
			return
		}
		var items []string
		for _, s := range strings.Split(list, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		if len(ps) != len(items) {
			t.Fatalf("%q: %d prefixes from %d items", list, len(ps), len(items))
		}
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" {
			return
		}
		ip := net.ParseIP(addr)
		if ip == nil {
			return
		}
		a = a.Unmap()
		for i, p := range ps {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("%q: item %q gave %v", list, items[i], p)
			}
			if got, want := p.Contains(a), netContains(t, items[i], ip); got != want {
				t.Fatalf("item %q (%v) contains %q: %v, net says %v", items[i], p, addr, got, want)
			}
		}
	})
}

// netContains reads item with net (a zone, which net does not read, is
// dropped) and reports whether it holds ip, comparing all addresses in
// their 16-byte form.
func netContains(t *testing.T, item string, ip net.IP) bool {
	ip16 := ip.To16()
	var n net.IP
	var mask net.IPMask
	if strings.Contains(item, "/") {
		_, ipn, err := net.ParseCIDR(item)
		if err != nil {
			t.Fatalf("net refuses %q, which was accepted: %v", item, err)
		}
		n, mask = ipn.IP.To16(), ipn.Mask
		ones, _ := mask.Size()
		if len(mask) == net.IPv4len {
			mask = net.CIDRMask(96+ones, 128)
		} else if ones < 96 && ip.To4() != nil {
			return false
		}
	} else {
		host, _, _ := strings.Cut(item, "%")
		n = net.ParseIP(host)
		if n == nil {
			t.Fatalf("net refuses %q, which was accepted", item)
		}
		n, mask = n.To16(), net.CIDRMask(128, 128)
	}
	for i := range net.IPv6len {
		if ip16[i]&mask[i] != n[i]&mask[i] {
			return false
		}
	}
	return true
}
