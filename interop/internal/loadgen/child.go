package loadgen

import (
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Child is this program re-executed as a child process, in which servers
// under test run, so that their garbage collection does not pause the
// load generator and the generator's does not pause them. The child
// recognizes its role by an environment variable and talks to its parent
// over its stdin and stdout; it must exit when its stdin closes.
type Child struct {
	cmd    *exec.Cmd
	Stdin  io.WriteCloser // the child's stdin
	Stdout io.ReadCloser  // the child's stdout; read it before Stop
	once   sync.Once
}

// StartChild re-executes this program with env=value added to its
// environment, the child's stderr going to this process's.
func StartChild(env, value string) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env+"="+value)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &Child{cmd: cmd, Stdin: stdin, Stdout: stdout}, nil
}

// Stop closes the child's stdin, which ends it, and waits for it; it
// kills the child (by its pid) if it has not exited after 10 s. Waiting
// closes Stdout. Calls after the first do nothing.
func (c *Child) Stop() {
	c.once.Do(func() {
		c.Stdin.Close()
		exited := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-exited
		}
	})
}
