package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// parentCheckEvery is how often a server started by "go run" checks that
// the go command is still there.
const parentCheckEvery = time.Second

// builtByGoRun reports whether exe is a program that "go run" built: it
// lives in a go-build directory, a temporary one (go-build123/b001/exe)
// or the build cache's (go-build/ab/abcd...-d).
func builtByGoRun(exe string) bool {
	for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(exe)), "/") {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}

// followGoRun returns a context that ends with ctx or, when this program
// was built and started by "go run", when the go command has exited:
// stopping "go run" (SIGTERM to the go command, which does not pass it
// on) then stops the server gracefully instead of leaving it behind. The
// go command is gone when this process's parent changes (it is then
// adopted by init or a subreaper). Other programs, daemons included, are
// not affected.
func followGoRun(ctx context.Context, log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	exe, err := os.Executable()
	if err != nil || !builtByGoRun(exe) {
		return ctx, cancel
	}
	parent := os.Getppid()
	go func() {
		t := time.NewTicker(parentCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if os.Getppid() != parent {
				log.Info("the go command that started this server has exited: stopping", "go_pid", parent)
				cancel()
				return
			}
		}
	}()
	return ctx, cancel
}
