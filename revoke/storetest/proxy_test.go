package storetest

import (
	"bufio"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxyFreeze(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string) (string, error) {
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		return r.ReadString('\n')
	}
	if got, err := roundTrip("one"); err != nil || got != "one\n" {
		t.Fatalf("before the freeze: %q, %v", got, err)
	}

	p.Freeze()
	// Nothing comes back, and nothing closes: the read times out.
	got, err := roundTrip("two")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("frozen: got %q, %v; want a read timeout", got, err)
	}
	// A new connection is accepted but answered by nothing either.
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatalf("frozen proxy refused a connection: %v", err)
	}
	defer c2.Close()
	c2.Write([]byte("new\n"))
	c2.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := bufio.NewReader(c2).ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("new connection while frozen: %v; want a read timeout", err)
	}

	p.Thaw()
	// The held line arrives, in order, then traffic flows again.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Fatalf("after the thaw: %q, %v; want the held line", got, err)
	}
	if got, err := roundTrip("three"); err != nil || got != "three\n" {
		t.Fatalf("after the thaw: %q, %v", got, err)
	}

	// Down ends a freeze instead of leaving copies blocked.
	p.Freeze()
	p.Down()
}
