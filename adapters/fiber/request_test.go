package fibergate_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate"
	fibergate "github.com/jwtgate/jwtgate/adapters/fiber"
	"github.com/jwtgate/jwtgate/dpop"
)

// view is what the Gate and its hooks can read of a request.
type view struct {
	Method, Proto           string
	ProtoMajor, ProtoMinor  int
	RequestURI, Host        string
	URL                     url.URL
	Header                  http.Header // without Cookie and Connection: see cookies
	Cookies                 []string
	RemoteAddr              string
	ContentLength           int64
	Body                    string
	TokenInContext, Context bool
}

// viewOf copies what view keeps of r, during the call that has r.
func viewOf(r *http.Request, ctxKey any) view {
	v := view{
		Method: r.Method, Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		RequestURI: r.RequestURI, Host: r.Host, URL: *r.URL, Header: r.Header.Clone(),
		RemoteAddr: r.RemoteAddr, ContentLength: r.ContentLength,
		Context: r.Context().Value(ctxKey) == "fiber-or-net/http",
	}
	// fasthttp joins Cookie headers into one, normalised; the cookies
	// themselves are the same.
	delete(v.Header, "Cookie")
	// fasthttp keeps Connection only as a flag.
	delete(v.Header, "Connection")
	// fasthttp reports "Content-Length: 0" on requests without a body
	// that net/http gives without the header.
	if r.ContentLength == 0 {
		delete(v.Header, "Content-Length")
	}
	for _, c := range r.Cookies() {
		v.Cookies = append(v.Cookies, c.Name+"="+c.Value)
	}
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		v.Body = string(b)
	}
	_, v.TokenInContext = jwtgate.TokenFrom(r.Context())
	return v
}

type ctxKey struct{}

// TestRequestAsNetHTTP sends the same raw requests to a net/http server
// and to a fiber server whose Gate refuses them, and compares the request
// that net/http's handler gets with the one the Gate's OnError hook gets
// from the adapter: method, protocol, URI and URL (escapes, queries, an
// absolute URI, paths that fasthttp would normalise), host, headers
// (repeated ones in order, with keys in any case), cookies, remote
// address, body, and the context (fiber's, with a value set by an earlier
// handler).
func TestRequestAsNetHTTP(t *testing.T) {
	type seen struct {
		v     view
		local string // the client's address
	}
	var mu sync.Mutex
	var got view
	keep := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = viewOf(r, ctxKey{})
	}
	ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keep(r.WithContext(context.WithValue(r.Context(), ctxKey{}, "fiber-or-net/http")))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer ref.Close()
	g := newGate(t, func(c *jwtgate.Config) {
		c.OnError = func(w http.ResponseWriter, r *http.Request, _ error) {
			keep(r)
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	app := fiber.New(fiber.Config{RequestMethods: slices.Concat(fiber.DefaultMethods, []string{"PURGE"})})
	app.All("/*", func(c fiber.Ctx) error {
		c.SetContext(context.WithValue(c.Context(), ctxKey{}, "fiber-or-net/http"))
		return c.Next()
	}, fibergate.New(g).Required(), func(c fiber.Ctx) error { return c.SendStatus(http.StatusOK) })
	fiberAddr := listen(t, app)

	send := func(addr, raw string) seen {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %d", addr, res.StatusCode)
		}
		mu.Lock()
		defer mu.Unlock()
		s := seen{got, conn.LocalAddr().String()}
		got = view{}
		return s
	}
	for _, raw := range []string{
		"GET /api/me?jwt=a%2Bb&x HTTP/1.1\r\nHost: example.com\r\nX-Multi: a\r\nx-multi: b\r\nX-MULTI: c, d\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n",
		"GET /a%2Fb/c%20d/%7E?q=1%202 HTTP/1.1\r\nHost: h:8080\r\n\r\n",
		"GET /a//b/../c/./d? HTTP/1.1\r\nHost: h\r\ndpop: proof\r\nX-Csrf-Token: 1\r\n\r\n",
		"GET http://example.org/abs?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n",
		"POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\nCookie: a=b; c=d\r\nCookie: e=f\r\n\r\ncsrf=1&x=2",
		"DELETE /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
		"PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /old HTTP/1.0\r\nHost: h\r\n\r\n",
	} {
		want := send(ref.Listener.Addr().String(), raw)
		have := send(fiberAddr, raw)
		if want.v.RemoteAddr != want.local || have.v.RemoteAddr != have.local {
			t.Errorf("%q: RemoteAddr %q from %s; net/http's %q from %s", raw, have.v.RemoteAddr, have.local, want.v.RemoteAddr, want.local)
		}
		want.v.RemoteAddr, have.v.RemoteAddr = "", ""
		if !reflect.DeepEqual(have.v, want.v) {
			t.Errorf("%q:\nadapter  %+v\nnet/http %+v", raw, have.v, want.v)
		}
	}
}

// TestTokensOutliveReuse keeps, request after request on one connection,
// what a handler may keep of a verified request (the token, its raw text,
// identity and claims) while the adapter reuses its request, header map and
// buffers and fasthttp its own, with headers of other lengths each time;
// then checks that none of it changed.
func TestTokensOutliveReuse(t *testing.T) {
	g := newGate(t, nil)
	auth := fibergate.New(g)
	type kept struct {
		tok      *jwtgate.Token
		raw      string
		identity string
		claims   map[string]any
		header   string
	}
	var mu sync.Mutex
	var all []kept
	app := fiber.New()
	app.Get("/", auth.Required(), func(c fiber.Ctx) error {
		tok, ok := fibergate.Token(c)
		if !ok {
			return fiber.ErrInternalServerError
		}
		var claims map[string]any
		if err := fibergate.Claims(c, &claims); err != nil {
			return err
		}
		mu.Lock()
		all = append(all, kept{tok, tok.Raw(), fibergate.Identity(c), claims, c.Get("X-Pad")})
		mu.Unlock()
		return c.SendStatus(http.StatusOK)
	})
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	base := "http://" + listen(t, app) + "/"
	const n = 200
	var sent []string
	for i := range n {
		user := fmt.Sprintf("user-%d-%s", i, strings.Repeat("u", i%37))
		tok := access(t, g, user, jwtgate.WithClaims(map[string]any{"n": i}))
		sent = append(sent, tok)
		r, err := http.NewRequest("GET", base, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("X-Pad", strings.Repeat("p", (i*7)%300))
		res, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, res.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(all) != n {
		t.Fatalf("%d requests kept, want %d", len(all), n)
	}
	for i, k := range all {
		user := fmt.Sprintf("user-%d-%s", i, strings.Repeat("u", i%37))
		var again map[string]any
		if err := k.tok.Decode(&again); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		switch {
		case k.raw != sent[i] || k.tok.Raw() != sent[i]:
			t.Errorf("request %d: the raw token changed", i)
		case k.identity != user || k.tok.Identity != user:
			t.Errorf("request %d: identity %q, token's %q, want %q", i, k.identity, k.tok.Identity, user)
		case k.claims["sub"] != user || fmt.Sprint(k.claims["n"]) != fmt.Sprint(i) || !reflect.DeepEqual(again, k.claims):
			t.Errorf("request %d: claims %v, decoded again %v", i, k.claims, again)
		case k.header != strings.Repeat("p", (i*7)%300):
			t.Errorf("request %d: the header fiber gave changed", i)
		}
	}
}

// TestConcurrentRequests sends requests from many clients at once, valid
// and refused, each client with its own user: every handler must see its
// own request's token, every refusal its own answer (run with -race).
func TestConcurrentRequests(t *testing.T) {
	g := newGate(t, func(c *jwtgate.Config) {
		c.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("X-Refused", r.Header.Get("X-User"))
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	auth := fibergate.New(g)
	app := fiber.New()
	app.Get("/", auth.Required(), func(c fiber.Ctx) error {
		if fibergate.Identity(c) != c.Get("X-User") {
			return c.Status(http.StatusConflict).SendString(fibergate.Identity(c))
		}
		return c.SendString(fibergate.Identity(c))
	})
	base := "http://" + listen(t, app) + "/"
	const clients, each = 8, 40
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i] = access(t, g, fmt.Sprintf("client-%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for i := range clients {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			user := fmt.Sprintf("client-%d", i)
			for j := range each {
				r, _ := http.NewRequest("GET", base, nil)
				r.Header.Set("X-User", user)
				refuse := j%3 == 0
				if !refuse {
					r.Header.Set("Authorization", "Bearer "+tokens[i])
				}
				res, err := client.Do(r)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case refuse && (res.StatusCode != http.StatusUnauthorized || res.Header.Get("X-Refused") != user):
					errs <- fmt.Errorf("%s: refusal %d for %q", user, res.StatusCode, res.Header.Get("X-Refused"))
				case !refuse && (res.StatusCode != http.StatusOK || string(body) != user):
					errs <- fmt.Errorf("%s: %d %q", user, res.StatusCode, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestAllocations bounds what the adapter adds to the Gate's own
// Required: at most two allocations per request (the adapter's budget),
// counted on fiber's fasthttp handler against net/http's.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations (sync.Pool drops items)")
	}
	g := newGate(t, nil)
	tok := access(t, g, "alice")
	ok := func(c fiber.Ctx) error { return c.SendStatus(http.StatusOK) }
	fiberAllocs := func(h ...any) float64 {
		app := fiber.New()
		h = append(h, ok)
		app.Get("/api/me", h[0], h[1:]...)
		handler := app.Handler()
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("GET")
		ctx.Request.SetRequestURI("/api/me?x=1")
		ctx.Request.Header.Set("Authorization", "Bearer "+tok)
		ctx.Request.Header.Set("Accept", "application/json")
		ctx.Request.Header.Set("User-Agent", "test/1")
		ctx.Request.Header.SetHost("example.com")
		return testing.AllocsPerRun(200, func() {
			ctx.Response.Reset()
			handler(&ctx)
			if code := ctx.Response.StatusCode(); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		})
	}
	netAllocs := func(h http.Handler) float64 {
		r := httptest.NewRequest("GET", "http://example.com/api/me?x=1", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Accept", "application/json")
		r.Header.Set("User-Agent", "test/1")
		w := &discard{h: http.Header{}}
		return testing.AllocsPerRun(200, func() {
			h.ServeHTTP(w, r)
			if w.code != http.StatusOK {
				t.Fatalf("status %d", w.code)
			}
		})
	}
	okHTTP := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	adapter := fiberAllocs(fibergate.New(g).Required()) - fiberAllocs()
	required := netAllocs(g.Required(okHTTP)) - netAllocs(okHTTP)
	if adapter > required+2 {
		t.Errorf("the adapter's path allocates %v times per request, the Gate's Required %v: more than 2 added", adapter, required)
	}
	t.Logf("allocations per request: adapter %v, Required %v", adapter, required)
}

// TestTLS checks that a request that came over TLS has its TLS state, as
// net/http gives it, so that the Gate takes its URL for https (a DPoP
// proof's htu); and that one that did not has none.
func TestTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil) // for its certificate and a client that trusts it
	ts.StartTLS()
	defer ts.Close()
	var mu sync.Mutex
	var htu []string
	g := newGate(t, func(c *jwtgate.Config) {
		c.OnError = func(w http.ResponseWriter, r *http.Request, _ error) {
			mu.Lock()
			htu = append(htu, dpop.RequestURL(r, nil).String())
			mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	newApp := func() *fiber.App {
		app := fiber.New()
		app.Get("/*", fibergate.New(g).Required(), func(c fiber.Ctx) error { return c.SendStatus(http.StatusOK) })
		return app
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := ts.TLS.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	secure := listenOn(t, newApp(), tls.NewListener(ln, cfg))
	plain := listen(t, newApp())
	client := ts.Client()
	defer client.CloseIdleConnections()
	for _, u := range []string{"https://" + secure + "/a//b", "http://" + plain + "/c"} {
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %d", u, res.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"https://" + secure + "/a//b", "http://" + plain + "/c"}; !slices.Equal(htu, want) {
		t.Errorf("the Gate took the requests for %q, want %q", htu, want)
	}
}

// discard is a ResponseWriter that keeps nothing but the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }
