package fibergate

import (
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
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

// TestTextOutlivesRequest keeps strings of converted requests (a header,
// the URI, the address) while later requests of all sizes, made in
// process and so without the raw header that sizes a long text, fill the
// chunks, replace them and overflow them; then checks that none changed.
func TestTextOutlivesRequest(t *testing.T) {
	app := fiber.New()
	var ctx fasthttp.RequestCtx
	c := app.AcquireCtx(&ctx)
	defer app.ReleaseCtx(c)
	type kept struct{ pad, uri, addr string }
	var got, want []kept
	for i := range 300 {
		pad := strings.Repeat(string(rune('a'+i%26)), (i*53)%3000)
		uri := fmt.Sprintf("/r/%d?q=%d", i, i)
		ctx.Request.Reset()
		ctx.Request.SetRequestURI(uri)
		ctx.Request.Header.Set("X-Pad", pad)
		ctx.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(10, 0, byte(i), 1), Port: 1000 + i})
		cv, r, err := request(c)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, kept{r.Header.Get("X-Pad"), r.RequestURI, r.RemoteAddr})
		want = append(want, kept{pad, uri, fmt.Sprintf("10.0.%d.1:%d", byte(i), 1000+i)})
		cv.release()
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("request %d: kept %.30q, want %.30q", i, got[i], want[i])
		}
	}
}

// TestChunkAllocations checks that small requests share chunks of text:
// well under one allocation each.
func TestChunkAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations (sync.Pool drops items)")
	}
	app := fiber.New()
	var ctx fasthttp.RequestCtx
	c := app.AcquireCtx(&ctx)
	defer app.ReleaseCtx(c)
	ctx.Request.SetRequestURI("/api/me")
	ctx.Request.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl")
	n := testing.AllocsPerRun(1000, func() {
		cv, _, err := request(c)
		if err != nil {
			t.Fatal(err)
		}
		cv.release()
	})
	if n >= 0.2 {
		t.Errorf("%v allocations per small request", n)
	}
}
