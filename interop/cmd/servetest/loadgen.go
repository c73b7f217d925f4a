package main

// The load generator, trimmed from ../loadtest/loadgen.go: HTTP/1.1 on raw
// keep-alive TCP connections, a request is one prepared byte slice written
// as is, a response is read by a minimal parser. This keeps the
// generator's share of the CPUs small and equal for every target.

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
	"time"
)

// rawRequest is one keep-alive HTTP/1.1 request. Headers are "Name: value"
// lines; a non-empty body gets its Content-Length.
func rawRequest(method, addr, path string, headers []string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: jwtgate-servetest\r\n")
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

// maxBody bounds the response bodies the generator accepts.
const maxBody = 1 << 20

// readResponse reads one response. It needs Content-Length (net/http sends
// it for these small bodies) and refuses chunked bodies. The body is kept
// in *body when body is not nil, else discarded. keepAlive is false when
// the server said "Connection: close".
func readResponse(br *bufio.Reader, body *[]byte) (status int, keepAlive bool, err error) {
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
			if err != nil || n < 0 || n > maxBody {
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

// probe sends req on a new connection and returns the status and body: it
// checks that the generator's own request bytes get the expected answer.
func probe(addr string, req []byte) (int, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, nil, err
	}
	if _, err := c.Write(req); err != nil {
		return 0, nil, err
	}
	var body []byte
	status, _, err := readResponse(bufio.NewReader(c), &body)
	return status, body, err
}

// load is one closed-loop run against one target: conns connections, each
// sending the next request as soon as it has read the previous response,
// until duration has passed (requests in flight then still complete).
type load struct {
	addr     string
	req      []byte
	conns    int
	duration time.Duration
}

// result is what one run measured. Only 200 responses count as completed;
// latencies are those of completed requests.
type result struct {
	completed int
	errors    int
	elapsed   time.Duration
	p50, p99  time.Duration
	firstErr  error
}

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.completed) / r.elapsed.Seconds()
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

func (l load) run() result {
	start := time.Now()
	deadline := start.Add(l.duration)
	ioDeadline := deadline.Add(30 * time.Second)
	stats := make([]connStats, l.conns)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Go(func() { l.conn(&stats[i], deadline, ioDeadline) })
	}
	wg.Wait()

	var res result
	var end time.Time
	var lat []time.Duration
	for i := range stats {
		s := &stats[i]
		lat = append(lat, s.lat...)
		res.errors += s.errors
		if res.firstErr == nil {
			res.firstErr = s.firstErr
		}
		if s.end.After(end) {
			end = s.end
		}
	}
	res.completed = len(lat)
	res.elapsed = end.Sub(start)
	slices.Sort(lat)
	res.p50 = percentile(lat, 0.50)
	res.p99 = percentile(lat, 0.99)
	return res
}

// conn is one connection's closed loop.
func (l load) conn(s *connStats, deadline, ioDeadline time.Time) {
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
			if c, err = net.DialTimeout("tcp", l.addr, 5*time.Second); err != nil {
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
		t0 := time.Now()
		if !t0.Before(deadline) {
			return
		}
		_, err := c.Write(l.req)
		var status int
		keepAlive := false
		if err == nil {
			status, keepAlive, err = readResponse(br, nil)
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

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
