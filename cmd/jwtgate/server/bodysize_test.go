package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestLargeBodyExpectContinue: a client that announces a 10 MB body with
// Expect: 100-continue and waits gets 413 at once, not 100 Continue and
// then a reset; a 10 MB body sent without waiting gets 413 too.
func TestLargeBodyExpectContinue(t *testing.T) {
	f := newFixture(t)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	for _, path := range []string{"/login", "/auth"} {
		t.Run(path, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", path, 10<<20)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body["error"] != "invalid_request" {
				t.Fatalf("body %v %v", body, err)
			}
		})
	}
	// Without Expect, the client's library sends it all: still 413.
	big := strings.NewReader(strings.Repeat("x", 10<<20))
	resp, err := f.srv.Client().Post(f.srv.URL+"/login", "application/json", big)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	}
}
