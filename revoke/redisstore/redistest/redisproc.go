package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/services"
)

// RedisServer is a redis-server process of a test's own, on a free
// loopback port, in a temporary directory, without persistence. Tests
// freeze, kill and fail it over without touching the shared Redis. It is
// stopped (SIGKILL, after a SIGCONT) when the test ends.
type RedisServer struct {
	// Addr is host:port of the server.
	Addr string
	// Port is its port.
	Port int
	// Dir is its working directory.
	Dir string

	cmd    *exec.Cmd
	waited chan struct{}
	mu     sync.Mutex
	logs   strings.Builder
}

// redisServerBin returns redis-server's path, or ends the test with
// services.Unreachable.
func redisServerBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		services.Unreachable(t, "redis-server (to start a Redis of the test's own)", err)
	}
	return bin
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartRedis starts a redis-server on a free port with the configuration
// lines conf (as in redis.conf: "cluster-enabled yes"), waits until it
// answers PING, and stops it when the test ends. Without redis-server on
// PATH it ends the test as unreachable (services.Unreachable).
func StartRedis(t testing.TB, conf ...string) *RedisServer {
	t.Helper()
	return startRedis(t, false, conf)
}

func startRedis(t testing.TB, sentinel bool, conf []string) *RedisServer {
	t.Helper()
	bin := redisServerBin(t)
	r := &RedisServer{Dir: t.TempDir(), waited: make(chan struct{})}
	var err error
	for range 5 { // another process may take the port in between
		r.Port = FreePort(t)
		r.Addr = "127.0.0.1:" + strconv.Itoa(r.Port)
		lines := append([]string{
			"port " + strconv.Itoa(r.Port),
			"bind 127.0.0.1",
			"dir " + r.Dir,
			`save ""`,
			"appendonly no",
			"protected-mode no",
		}, conf...)
		file := filepath.Join(r.Dir, "redis.conf")
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{file}
		if sentinel {
			args = append(args, "--sentinel")
		}
		if err = r.start(t, bin, args); err == nil {
			return r
		}
	}
	t.Fatalf("redis-server does not start: %v\n%s", err, r.Logs())
	return nil
}

func (r *RedisServer) start(t testing.TB, bin string, args []string) error {
	r.waited = make(chan struct{})
	r.cmd = exec.Command(bin, args...)
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	r.cmd.Stderr = r.cmd.Stdout
	if err := r.cmd.Start(); err != nil {
		return err
	}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			r.mu.Lock()
			r.logs.WriteString(s.Text() + "\n")
			r.mu.Unlock()
		}
		_ = r.cmd.Wait()
		close(r.waited)
	}()
	t.Cleanup(r.Kill)
	// A generous deadline for something that must happen: the server
	// answers PING.
	for range 200 {
		select {
		case <-r.waited:
			return fmt.Errorf("redis-server exited")
		default:
		}
		if reply, err := r.Command("PING"); err == nil && reply == "PONG" {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	r.Kill()
	return fmt.Errorf("redis-server on %s does not answer PING", r.Addr)
}

// Logs returns what the server has written so far.
func (r *RedisServer) Logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

// Signal sends sig to the server: syscall.SIGSTOP freezes it (no FIN, no
// RST: its connections stay open and silent), syscall.SIGCONT resumes it.
func (r *RedisServer) Signal(sig syscall.Signal) error {
	return r.cmd.Process.Signal(sig)
}

// Kill kills the server (SIGKILL, as a crash does) and waits for it to
// exit. Killing it twice is harmless.
func (r *RedisServer) Kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	_ = r.cmd.Process.Kill()
	<-r.waited
}

// Command sends one command (its words, without quoting) on a new
// connection and returns the reply as text: a simple or bulk string, an
// integer, or an array's elements on separate lines. A Redis error is an
// error. It bounds itself with a 2 s deadline.
func (r *RedisServer) Command(words ...string) (string, error) {
	return RedisCommand(r.Addr, words...)
}

// RedisCommand is Command on the server at addr.
func RedisCommand(addr string, words ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(words))
	for _, w := range words {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(w), w)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	var out []string
	if err := readReply(bufio.NewReader(c), &out, 0); err != nil {
		return "", err
	}
	return strings.Join(out, "\n"), nil
}

// readReply reads one RESP2 reply into out.
func readReply(br *bufio.Reader, out *[]string, depth int) error {
	if depth > 8 {
		return fmt.Errorf("reply nested too deep")
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		*out = append(*out, line[1:])
	case '-':
		return fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return err
		}
		if n < 0 {
			*out = append(*out, "")
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		*out = append(*out, string(buf[:n]))
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return err
		}
		for range max(n, 0) {
			if err := readReply(br, out, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unexpected reply %.40q", line)
	}
	return nil
}

// RedisCluster is a Redis Cluster of the test's own: Masters masters,
// each with Replicas replicas, on free loopback ports (redis-server
// --cluster-enabled yes, then redis-cli --cluster create).
type RedisCluster struct {
	Nodes []*RedisServer
}

// Addrs returns the address of every node.
func (c *RedisCluster) Addrs() []string {
	var a []string
	for _, n := range c.Nodes {
		a = append(a, n.Addr)
	}
	return a
}

// StartCluster starts a cluster of masters masters with replicas replicas
// each, waits until every node reports cluster_state:ok, and stops every
// process when the test ends. Without redis-server or redis-cli on PATH
// it ends the test as unreachable (services.Unreachable).
func StartCluster(t testing.TB, masters, replicas int) *RedisCluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		services.Unreachable(t, "redis-cli (to create a Redis Cluster)", err)
	}
	c := &RedisCluster{}
	for range masters * (1 + replicas) {
		c.Nodes = append(c.Nodes, StartRedis(t,
			"cluster-enabled yes",
			"cluster-config-file nodes.conf",
			"cluster-node-timeout 1000",
			// A replica may always take over: the tests kill masters.
			"cluster-replica-validity-factor 0",
			"cluster-port "+strconv.Itoa(FreePort(t)),
		))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK(t)
	return c
}

// WaitOK waits (a bounded number of polls) until every node but skip
// says cluster_state:ok, and every replica among them is in sync with its
// master (master_link_status:up).
func (c *RedisCluster) WaitOK(t testing.TB, skip ...*RedisServer) {
	t.Helper()
	var last string
	for range 600 {
		ok := true
		for _, n := range c.Nodes {
			if contains(skip, n) {
				continue
			}
			info, err := n.Command("CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				ok, last = false, n.Addr+": "+info
				if err != nil {
					last = n.Addr + ": " + err.Error()
				}
				break
			}
			repl, err := n.Command("INFO", "replication")
			if err != nil || (strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up")) {
				ok, last = false, n.Addr+": replica not in sync"
				break
			}
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("cluster not ok after 600 polls: %s", last)
}

func contains(list []*RedisServer, r *RedisServer) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

// Role returns "master" or "slave" for node n (ROLE).
func (r *RedisServer) Role() string {
	out, err := r.Command("ROLE")
	if err != nil {
		return ""
	}
	role, _, _ := strings.Cut(out, "\n")
	return role
}

// Masters returns the nodes that are masters now.
func (c *RedisCluster) Masters() []*RedisServer {
	var m []*RedisServer
	for _, n := range c.Nodes {
		if n.Role() == "master" {
			m = append(m, n)
		}
	}
	return m
}

// ReplicaOf returns a replica of master m, or nil.
func (c *RedisCluster) ReplicaOf(m *RedisServer) *RedisServer {
	for _, n := range c.Nodes {
		out, err := n.Command("ROLE")
		if err != nil {
			continue
		}
		f := strings.Split(out, "\n")
		if len(f) >= 3 && f[0] == "slave" && f[2] == strconv.Itoa(m.Port) {
			return n
		}
	}
	return nil
}

// RedisSentinel is a Redis master, a replica of it and one Sentinel that
// watches them under the name Master.
type RedisSentinel struct {
	Primary, Replica, Sentinel *RedisServer
	Master                     string
}

// StartSentinel starts a master, a replica and one sentinel (quorum 1,
// down-after 1 s, failover-timeout 5 s) watching them as "mymaster", waits
// until the sentinel knows the replica, and stops them when the test ends.
func StartSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	s := &RedisSentinel{Master: "mymaster"}
	s.Primary = StartRedis(t)
	s.Replica = StartRedis(t, "replicaof 127.0.0.1 "+strconv.Itoa(s.Primary.Port))
	s.Sentinel = startRedis(t, true, []string{
		"sentinel monitor mymaster 127.0.0.1 " + strconv.Itoa(s.Primary.Port) + " 1",
		"sentinel down-after-milliseconds mymaster 1000",
		"sentinel failover-timeout mymaster 5000",
	})
	var last string
	for range 400 {
		out, err := s.Sentinel.Command("SENTINEL", "REPLICAS", "mymaster")
		if err == nil && strings.Contains(out, strconv.Itoa(s.Replica.Port)) && strings.Contains(out, "slave") {
			if info, err := s.Replica.Command("INFO", "replication"); err == nil && strings.Contains(info, "master_link_status:up") {
				return s
			}
		}
		last = out
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sentinel does not know the replica after 400 polls: %v", last)
	return nil
}
