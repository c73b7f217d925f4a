package storetest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke"
)

// Proxy is a TCP proxy in front of a store's server, so a test can take
// the server away and bring it back without touching the real one.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	frozen chan struct{} // closed when thawed; nil while not frozen
}

// NewProxy starts a proxy on a loopback port that forwards to target. It
// is closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Down)
	return p
}

// Addr is the proxy's address, to give to the store instead of the
// server's.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.DialTimeout("tcp", p.target, 3*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[s] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer p.wg.Done()
				p.copy(dst, src)
				dst.Close()
				src.Close()
			}
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
}

// copy forwards src to dst like io.Copy, holding each chunk while the
// proxy is frozen.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			thawed := p.frozen
			p.mu.Unlock()
			if thawed != nil {
				<-thawed
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Freeze makes the proxy a black hole without closing anything, as a
// network partition or a frozen server does: connections stay open (no
// FIN, no RST), new ones are accepted, and no byte goes through in either
// direction until Thaw. Bytes sent meanwhile are held and delivered by
// Thaw. Down ends a freeze too.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
}

// Thaw ends a freeze: held bytes are delivered, in order.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
}

// Down takes the server away: the proxy stops listening and cuts every
// connection through it.
func (p *Proxy) Down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Up brings the server back on the same address.
func (p *Proxy) Up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port can take a moment to be free again
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("proxy cannot listen on %s again: %v", p.addr, err)
}

// RunComeback checks a store whose server goes away and comes back: while
// it is away, requests are refused with 503 (fail closed), even for a
// token the instance has already checked; a revocation made elsewhere
// during the outage (through direct, a store on the same server that does
// not go through the proxy) is in force once the server is back; and the
// instance recovers by itself.
func RunComeback(t *testing.T, viaProxy, direct revoke.Store, p *Proxy) {
	user, other := ID("user"), ID("other")
	in := NewInstance(t, viaProxy)
	side := NewInstance(t, direct)
	access, _ := in.Login(t, "/login", user)
	victim, _ := in.Login(t, "/login", other)
	for _, tok := range []string{access, victim} {
		if code, body := in.Do(t, "GET", "/protected", tok); code != 200 {
			t.Fatalf("before the outage: %d %s", code, body)
		}
	}

	p.Down()
	// A client-side cache may answer a seen token in the instant before the
	// client notices the connection is gone (as it would before any
	// invalidation arrives); once it notices, it must drop the cache and
	// refuse.
	code, body := 0, ""
	for range 100 {
		if code, body = in.Do(t, "GET", "/protected", access); code == 503 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != 503 {
		t.Fatalf("server away, token already seen: %d %s; want 503", code, body)
	}
	if code, body := side.Do(t, "POST", "/logout", victim); code/100 != 2 {
		t.Fatalf("logout on the other instance during the outage: %d %s", code, body)
	}
	// Single-use ids while the server is away: an error, never first; an
	// id used elsewhere meanwhile is refused once it is back.
	oVia, okVia := viaProxy.(revoke.OneTimeStore)
	oDirect, okDirect := direct.(revoke.OneTimeStore)
	usedElsewhere := ID("id")
	until := time.Now().Add(time.Hour)
	if okVia && okDirect {
		for _, id := range []string{ID("id"), usedElsewhere} {
			c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			first, err := oVia.Use(c, id, until)
			cancel()
			if first || err == nil {
				t.Fatalf("Use with the server away = %v, %v; want false and an error", first, err)
			}
		}
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		first, err := oDirect.Use(c, usedElsewhere, until)
		cancel()
		if !first || err != nil {
			t.Fatalf("Use on the other instance during the outage = %v, %v; want true", first, err)
		}
	}

	p.Up(t)
	// The instance reconnects by itself; give it a bounded number of tries.
	for range 100 {
		if code, body = in.Do(t, "GET", "/protected", access); code == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != 200 {
		t.Fatalf("server back: %d %s; want 200 after reconnecting", code, body)
	}
	if code, body := in.Do(t, "GET", "/protected", victim); code != 401 {
		t.Fatalf("token revoked during the outage: %d %s; want 401", code, body)
	}
	if okVia && okDirect {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		first, err := oVia.Use(c, usedElsewhere, until)
		cancel()
		if first || err != nil {
			t.Fatalf("Use of an id used elsewhere during the outage, server back = %v, %v; want false", first, err)
		}
	}
}
