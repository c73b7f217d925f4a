package loadgen

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRawRequest(t *testing.T) {
	got := string(RawRequest("GET", "127.0.0.1:8080", "/",
		[]string{"User-Agent: jwtgate-loadtest", "Accept: application/json", "Authorization: Bearer tok"}, nil))
	want := "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: jwtgate-loadtest\r\nAccept: application/json\r\nAuthorization: Bearer tok\r\n\r\n"
	if got != want {
		t.Errorf("GET:\n got %q\nwant %q", got, want)
	}
	got = string(RawRequest("POST", "h:1", "/login", []string{"Content-Type: application/json"}, []byte(`{"a":1}`)))
	want = "POST /login HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
	if got != want {
		t.Errorf("POST:\n got %q\nwant %q", got, want)
	}
}

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		status    int
		keepAlive bool
		body      string
		err       string // in the error; "": none
	}{
		{name: "ok", in: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n\r\nhello", status: 200, keepAlive: true, body: "hello"},
		{name: "close", in: "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status: 401},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", err: "Transfer-Encoding"},
		{name: "no length", in: "HTTP/1.1 200 OK\r\n\r\n", err: "without Content-Length"},
		{name: "bad status", in: "HTTP/2 200\r\n\r\n", err: "bad status line"},
		{name: "bad length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: "bad Content-Length"},
		{name: "short body", in: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", err: "EOF"}, // io.ErrUnexpectedEOF, or io.EOF when discarding
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, keep := range []bool{true, false} {
				var body []byte
				bp := &body
				if !keep {
					bp = nil
				}
				status, keepAlive, err := ReadResponse(bufio.NewReader(strings.NewReader(tc.in)), bp)
				if tc.err != "" {
					if err == nil || !strings.Contains(err.Error(), tc.err) {
						t.Errorf("error %v, want one with %q", err, tc.err)
					}
					continue
				}
				if err != nil || status != tc.status || keepAlive != tc.keepAlive {
					t.Errorf("%d %v %v, want %d %v", status, keepAlive, err, tc.status, tc.keepAlive)
				}
				if keep && string(body) != tc.body {
					t.Errorf("body %q, want %q", body, tc.body)
				}
			}
		})
	}
}

func TestProbeAndLoad(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"sub":"x"}`))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	req := RawRequest("GET", addr, "/", []string{"User-Agent: loadgen-test", "Authorization: Bearer tok"}, nil)

	status, body, err := Probe(addr, req, 30*time.Second)
	if err != nil || status != 200 || string(body) != `{"sub":"x"}` {
		t.Fatalf("probe: %d %q %v", status, body, err)
	}

	const requests = 200
	n.Store(0)
	r := Load{Addr: addr, Req: req, Conns: 4, Requests: requests}.Run()
	if r.Completed != requests || r.Errors != 0 || r.FirstErr != nil {
		t.Errorf("requests run: %d completed, %d errors (%v), want %d and 0", r.Completed, r.Errors, r.FirstErr, requests)
	}
	if got := n.Load(); got != requests {
		t.Errorf("the server saw %d requests, want %d", got, requests)
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.Elapsed <= 0 || r.RPS() <= 0 {
		t.Errorf("requests run: p50 %v p99 %v elapsed %v rps %v", r.P50, r.P99, r.Elapsed, r.RPS())
	}

	r = Load{Addr: addr, Req: req, Conns: 2, Duration: 50 * time.Millisecond}.Run()
	if r.Completed == 0 || r.Errors != 0 {
		t.Errorf("timed run: %d completed, %d errors (%v)", r.Completed, r.Errors, r.FirstErr)
	}

	// Without a token every response is a 401: counted as errors, not
	// completed.
	bad := RawRequest("GET", addr, "/", nil, nil)
	r = Load{Addr: addr, Req: bad, Conns: 1, Requests: 3}.Run()
	if r.Completed != 0 || r.Errors != 3 || r.FirstErr == nil || !strings.Contains(r.FirstErr.Error(), "status 401") {
		t.Errorf("401 run: %d completed, %d errors (%v), want 0 and 3", r.Completed, r.Errors, r.FirstErr)
	}
}

func TestStats(t *testing.T) {
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("Median odd = %v", m)
	}
	if m := Median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("Median even = %v", m)
	}
	if m := Median(nil); m != 0 {
		t.Errorf("Median none = %v", m)
	}
	sorted := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := Percentile(sorted, 0.5); p != 5 {
		t.Errorf("p50 = %v", p)
	}
	if p := Percentile(sorted, 0.99); p != 10 {
		t.Errorf("p99 = %v", p)
	}
	runs := []Result{
		{Completed: 100, Elapsed: time.Second, P50: 1, P99: 10, Errors: 1},
		{Completed: 300, Elapsed: time.Second, P50: 3, P99: 30},
		{Completed: 200, Elapsed: time.Second, P50: 2, P99: 20, Errors: 2},
	}
	if s := Summarize(runs); s != (Summary{RPS: 200, P50: 2, P99: 20, Errors: 3}) {
		t.Errorf("Summarize = %+v", s)
	}
	if lo, hi := RPSRange(runs); lo != 100 || hi != 300 {
		t.Errorf("RPSRange = %v %v", lo, hi)
	}
	base := []Result{{Completed: 200, Elapsed: time.Second}, {}, {Completed: 100, Elapsed: time.Second}}
	if r := PairedRatio(runs, base); r != 1.25 { // median of 0.5 and 2, round 2 left out
		t.Errorf("PairedRatio = %v", r)
	}
}

// TestLoadNext: with Next, every request is sent once, each with its own
// bytes, and the run ends when Next has no more.
func TestLoadNext(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	const n = 50
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = RawRequest("GET", addr, "/"+strconv.Itoa(i), nil, nil)
	}
	var next atomic.Int64
	r := Load{Addr: addr, Conns: 4, Duration: time.Hour, Next: func() ([]byte, bool) {
		i := next.Add(1) - 1
		if i >= n {
			return nil, false
		}
		return reqs[i], true
	}}.Run()
	if r.Completed != n || r.Errors != 0 {
		t.Fatalf("run: %d completed, %d errors (%v); want %d and 0", r.Completed, r.Errors, r.FirstErr, n)
	}
	if len(seen) != n {
		t.Fatalf("the server saw %d distinct requests, want %d", len(seen), n)
	}
	for path, c := range seen {
		if c != 1 {
			t.Errorf("%s sent %d times", path, c)
		}
	}
}
