// Package loadgen is the closed-loop HTTP/1.1 load generator of the
// loopback load tests in interop/cmd (loadtest and servetest), with the
// helpers both share: the summary of runs over rounds and the child
// process, the command re-executed, in which servers under test run.
//
// The generator speaks HTTP/1.1 on raw keep-alive TCP connections rather
// than through net/http's client: a request is one prepared byte slice
// (see RawRequest) written as is, a response is read by a minimal parser
// (see ReadResponse). This keeps the generator's share of the CPUs small
// and equal for every target, so that the targets' differences show, as
// with wrk.
package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RawRequest is one keep-alive HTTP/1.1 request: the request line, Host,
// then headers in their order ("Name: value" lines, the User-Agent among
// them if wanted), then Content-Length for a non-empty body, and body.
func RawRequest(method, addr, path string, headers []string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if len(body) > 0 {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// MaxBody bounds the response bodies the generator accepts.
const MaxBody = 1 << 20

// ReadResponse reads one response. It needs Content-Length (net/http
// sends it for small bodies) and refuses chunked bodies. The body is kept
// in *body when body is not nil, else discarded. keepAlive is false when
// the server said "Connection: close".
func ReadResponse(br *bufio.Reader, body *[]byte) (status int, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	keepAlive = true
	length := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 || n > MaxBody {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("unsupported Transfer-Encoding %q", value)
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keepAlive = false
		}
	}
	if length < 0 {
		return 0, false, errors.New("response without Content-Length")
	}
	if body == nil {
		_, err = br.Discard(length)
	} else {
		*body = slices.Grow((*body)[:0], length)[:length]
		_, err = io.ReadFull(br, *body)
	}
	if err != nil {
		return 0, false, err
	}
	return status, keepAlive, nil
}

// Probe sends req on a new connection and returns the status and body,
// giving up after timeout: it checks that a target answers the
// generator's own request bytes as expected.
func Probe(addr string, req []byte, timeout time.Duration) (int, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, nil, err
	}
	if _, err := c.Write(req); err != nil {
		return 0, nil, err
	}
	var body []byte
	status, _, err := ReadResponse(bufio.NewReader(c), &body)
	return status, body, err
}

// DefaultIOTimeout is Load.IOTimeout when that is zero.
const DefaultIOTimeout = 30 * time.Second

// Load is one closed-loop run against one target: Conns connections, each
// sending Req to Addr as soon as it has read the previous response, until
// Duration has passed (requests in flight then still complete) or, when
// Requests is not zero, until Requests requests have been sent in all.
type Load struct {
	Addr string
	Req  []byte
	// Next, when set, gives each request's bytes instead of Req (for
	// requests that may be sent once only, prepared before the run); a
	// connection stops when it returns false. It must be safe for
	// concurrent use and cheap: its time counts in the latency.
	Next     func() ([]byte, bool)
	Conns    int
	Duration time.Duration // used when Requests is 0
	Requests int           // in all; 0: run for Duration
	// IOTimeout bounds the connections' reads and writes: their deadline
	// is IOTimeout after the end of Duration, or after the start of the
	// run when Requests is not zero. 0 means DefaultIOTimeout.
	IOTimeout time.Duration
}

// Result is what one run measured. Only 200 responses count as
// completed; the latencies are those of completed requests.
type Result struct {
	Completed int
	Errors    int
	Elapsed   time.Duration // from the start until the last connection ended
	P50, P99  time.Duration
	FirstErr  error // the first error of the first connection that had one
}

// RPS is the rate of completed requests.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// maxErrorsPerConn stops a connection's loop after this many errors, so a
// broken server cannot keep the generator spinning.
const maxErrorsPerConn = 100

type connStats struct {
	lat      []time.Duration
	errors   int
	firstErr error
	end      time.Time
}

// Run runs the load and returns what it measured.
func (l Load) Run() Result {
	start := time.Now()
	deadline := start.Add(l.Duration)
	ioTimeout := l.IOTimeout
	if ioTimeout == 0 {
		ioTimeout = DefaultIOTimeout
	}
	ioDeadline := deadline.Add(ioTimeout)
	if l.Requests > 0 {
		ioDeadline = start.Add(ioTimeout)
	}
	var remaining atomic.Int64
	remaining.Store(int64(l.Requests))
	stats := make([]connStats, l.Conns)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Go(func() { l.conn(&stats[i], deadline, ioDeadline, &remaining) })
	}
	wg.Wait()

	var res Result
	var end time.Time
	var lat []time.Duration
	for i := range stats {
		s := &stats[i]
		lat = append(lat, s.lat...)
		res.Errors += s.errors
		if res.FirstErr == nil {
			res.FirstErr = s.firstErr
		}
		if s.end.After(end) {
			end = s.end
		}
	}
	res.Completed = len(lat)
	res.Elapsed = end.Sub(start)
	slices.Sort(lat)
	res.P50 = Percentile(lat, 0.50)
	res.P99 = Percentile(lat, 0.99)
	return res
}

// conn is one connection's closed loop.
func (l Load) conn(s *connStats, deadline, ioDeadline time.Time, remaining *atomic.Int64) {
	defer func() { s.end = time.Now() }()
	fail := func(err error) bool {
		s.errors++
		if s.firstErr == nil {
			s.firstErr = err
		}
		return s.errors < maxErrorsPerConn
	}
	var c net.Conn
	var br *bufio.Reader
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		if c == nil {
			var err error
			if c, err = net.DialTimeout("tcp", l.Addr, 5*time.Second); err != nil {
				c = nil
				fail(err)
				return
			}
			if err := c.SetDeadline(ioDeadline); err != nil {
				fail(err)
				return
			}
			br = bufio.NewReaderSize(c, 4096)
		}
		if l.Requests > 0 {
			if remaining.Add(-1) < 0 {
				return
			}
		}
		req := l.Req
		if l.Next != nil {
			var ok bool
			if req, ok = l.Next(); !ok {
				return
			}
		}
		t0 := time.Now()
		if l.Requests == 0 && !t0.Before(deadline) {
			return
		}
		_, err := c.Write(req)
		var status int
		keepAlive := false
		if err == nil {
			status, keepAlive, err = ReadResponse(br, nil)
		}
		t1 := time.Now()
		switch {
		case err != nil:
			if !fail(err) {
				return
			}
		case status != 200:
			if !fail(fmt.Errorf("status %d", status)) {
				return
			}
		default:
			s.lat = append(s.lat, t1.Sub(t0))
		}
		if err != nil || !keepAlive {
			c.Close()
			c = nil
		}
	}
}

// Percentile returns the q-quantile of sorted (nearest rank), 0 for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
