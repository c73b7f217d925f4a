package fibergate

import (
	"net"
	"net/textproto"
	"net/url"
	"reflect"
	"testing"
)

// uris are request URIs for the URL tests: some on parseURL's fast path,
// some that need url.ParseRequestURI.
var uris = []struct {
	uri   string
	plain bool // on the fast path
}{
	{"/", true},
	{"/api/me", true},
	{"/a/b/../c//d", true},
	{"/p?jwt=abc&x=1", true},
	{"/p?", true},
	{"/p??", true},
	{"/p?a=b?c#frag", true},
	{"//double", true},
	{"/-._~$&+,:;=@/x", true},
	{"/a%2Fb/c%20d?q=1%202&jwt=x%2By", false},
	{"/caf%C3%A9", false},
	{"/bad%zz", false},
	{"/a b", false},
	{"/a#frag", false},
	{"/a'(*)!", false},
	{"/caf\xc3\xa9", false},
	{"/p?a=\x01", false},
	{"/p\x7f", false},
	{"*", false},
	{"http://example.com/abs?x=1", false},
	{"", false},
	{"relative", false},
}

// TestParseURL checks that parseURL gives url.ParseRequestURI's URL, by
// hand for the plain URIs and through url.ParseRequestURI for the others
// (percent escapes, a fragment, bytes the escaped path changes).
func TestParseURL(t *testing.T) {
	for _, tc := range uris {
		_, _, plain := plainURI(tc.uri)
		if plain != tc.plain {
			t.Errorf("%q: on the fast path %v, want %v", tc.uri, plain, tc.plain)
		}
		checkURL(t, tc.uri)
	}
}

func checkURL(t *testing.T, uri string) {
	t.Helper()
	want, wantErr := url.ParseRequestURI(uri)
	var cv conv
	err := cv.parseURL(uri)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, url.ParseRequestURI's %v", uri, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(cv.url, *want) {
		t.Fatalf("%q: %#v, url.ParseRequestURI gives %#v", uri, cv.url, *want)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, tc := range uris {
		f.Add(tc.uri)
	}
	f.Fuzz(checkURL)
}

func TestCanonicalKey(t *testing.T) {
	for _, k := range []string{
		"", "a", "authorization", "AUTHORIZATION", "Authorization", "x-csrf-token", "X-CSRF-TOKEN",
		"dpop", "content-type", "-a-b-", "a--b", "x_y-z", "1a-2b", "user agent", "Bad:Key",
		"caf\xc3\xa9", "x-\x00", "ÄB",
	} {
		b := []byte(k)
		canonicalKey(b)
		if got, want := string(b), textproto.CanonicalMIMEHeaderKey(k); got != want {
			t.Errorf("%q: %q, textproto gives %q", k, got, want)
		}
	}
}

func FuzzCanonicalKey(f *testing.F) {
	f.Add("x-csrf-token")
	f.Add("user agent")
	f.Fuzz(func(t *testing.T, k string) {
		b := []byte(k)
		canonicalKey(b)
		if got, want := string(b), textproto.CanonicalMIMEHeaderKey(k); got != want {
			t.Errorf("%q: %q, textproto gives %q", k, got, want)
		}
	})
}

// unixAddr is an address of another network, printed by its String.
var unixAddr = &net.UnixAddr{Name: "/tmp/sock", Net: "unix"}

func TestAppendAddr(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4zero},
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		&net.TCPAddr{IP: net.IP{192, 168, 100, 200}, Port: 65535},
		&net.TCPAddr{IP: net.IP{10, 0, 9, 99}, Port: 1},
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 443},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1:0:0:1"), Port: 80},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"},
		&net.TCPAddr{IP: net.ParseIP("1.2.3.4"), Port: 80, Zone: "eth0"},
		&net.TCPAddr{IP: net.ParseIP("::ffff:1.2.3.4"), Port: 80},
		&net.TCPAddr{Port: 80},
		&net.TCPAddr{IP: net.IP{1, 2, 3}, Port: 80},
		&net.TCPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 70000},
		(*net.TCPAddr)(nil),
		unixAddr,
	} {
		if got, want := string(appendAddr([]byte("x"), a)), "x"+a.String(); got != want {
			t.Errorf("%#v: %q, String gives %q", a, got, want)
		}
	}
}

// TestKeep checks that the strings keep returns never change while later
// requests fill the chunk and replace it, whatever becomes of the bytes
// they were copied from, and that small requests share chunks.
func TestKeep(t *testing.T) {
	var cv conv
	var kept, want []string
	b := make([]byte, 0, 2*chunkSize)
	for i := range 300 {
		n := (i * 37) % (chunkSize / 3)
		if i%50 == 49 {
			n = chunkSize/4 + i // a large request
		}
		b = b[:0]
		for j := range n {
			b = append(b, byte('a'+(i+j)%26))
		}
		kept = append(kept, cv.keep(b))
		want = append(want, string(b))
		for j := range b {
			b[j] = '!' // the scratch space is reused
		}
	}
	for i := range kept {
		if kept[i] != want[i] {
			t.Fatalf("string %d changed: %.20q..., want %.20q...", i, kept[i], want[i])
		}
	}
	if raceEnabled {
		return
	}
	small := []byte("/api/me 10.0.0.1:5000 AuthorizationBearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
	if n := testing.AllocsPerRun(100, func() { cv.keep(small) }); n >= 0.1 {
		t.Errorf("keep allocates %v times per small request", n)
	}
}
