package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
)

// usersCmd opens the stores named by --data-dir or --database-url and
// --redis (or their JWTGATE_* variables) and runs do on them with the
// positional arguments.
func usersCmd(e *env, name string, nargs int, args []string, do func(*server.Stores, []string, time.Duration) int) int {
	return usersCmdFlags(e, name, nargs, args, nil, do)
}

// usersCmdFlags is usersCmd with more flags, defined by more.
func usersCmdFlags(e *env, name string, nargs int, args []string, more func(*flag.FlagSet), do func(*server.Stores, []string, time.Duration) int) int {
	synopsis := "users " + name + " [--data-dir DIR | --database-url URL [--redis ADDR]]"
	if nargs == 1 {
		synopsis += " USER"
	}
	if name == "add" || name == "passwd" {
		synopsis += "\n\nThe password is read from the terminal (asked twice), or as one line of standard input.\n" +
			"It must have at least --min-password-length characters (8 by default), at most\n" +
			"1024 bytes, and must not be the username (in any letter case)."
	}
	fs := e.newFlags("users "+name, synopsis)
	vars := map[string]string{}
	config := fs.String("config", "", "the JSON config file of jwtgate serve, for its stores [JWTGATE_CONFIG]")
	stores := addStoreFlags(fs, vars)
	var minLen *int
	if name == "add" || name == "passwd" {
		minLen = addPasswordFlag(fs, vars)
	}
	if more != nil {
		more(fs)
	}
	var ttl *time.Duration
	if name == "passwd" || name == "delete" {
		ttl = fs.Duration("refresh-ttl", 720*time.Hour, "the server's refresh token lifetime: the user's tokens are revoked for this long [JWTGATE_REFRESH_TTL]")
		vars["refresh-ttl"] = "JWTGATE_REFRESH_TTL"
	}
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	if !storeSources(e, fs, vars, *config) {
		return exitUsage
	}
	if len(pos) != nargs {
		e.errorf("users %s: want %d argument(s), got %d", name, nargs, len(pos))
		fs.Usage()
		return exitUsage
	}
	if nargs == 1 {
		if err := server.ValidUsername(pos[0]); err != nil {
			e.errorf("users %s: %v", name, err)
			return exitUsage
		}
	}
	var policy server.PasswordPolicy
	if minLen != nil {
		if policy, ok = passwordPolicy(e, "users "+name, *minLen); !ok {
			return exitUsage
		}
	}
	octx, cancel := context.WithTimeout(e.ctx, usersOpenTimeout)
	data, err := server.Open(octx, stores.config(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{ReplaceAttr: userErrors}))))
	cancel()
	if err != nil {
		e.errorf("users %s: %v", name, storeErr(err, usersOpenTimeout))
		return exitUsage
	}
	defer data.Close()
	data.Users.Policy = policy
	// The audit log's own lines are the server's: a command reports its
	// outcome itself.
	data.Audit.SetLogger(slog.New(slog.DiscardHandler))
	var lifetime time.Duration
	if ttl != nil {
		if lifetime = *ttl; lifetime <= 0 {
			e.errorf("users %s: --refresh-ttl must be positive", name)
			return exitUsage
		}
	}
	return do(data, pos, lifetime)
}

// Deadlines of the users commands: a store that does not answer (a
// partition, a frozen server, a table locked by another session) ends the
// command with an error instead of holding it without end.
const (
	// usersOpenTimeout bounds the opening of the stores: connecting, and
	// creating or checking their tables.
	usersOpenTimeout = 10 * time.Second
	// usersStoreTimeout bounds each store call of a command (with the
	// password hash of add and passwd).
	usersStoreTimeout = 5 * time.Second
)

// storeCtx returns a context for one store call of a users command.
func (e *env) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.ctx, usersStoreTimeout)
}

// storeErr says plainly that a store ran out of time.
func storeErr(err error, d time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the store did not answer within %v: %w", d, err)
	}
	return err
}

// addPasswordFlag defines --min-password-length, a setting of serve's
// config file too.
func addPasswordFlag(fs *flag.FlagSet, vars map[string]string) *int {
	vars["min-password-length"] = "JWTGATE_MIN_PASSWORD_LENGTH"
	return fs.Int("min-password-length", server.DefaultMinPasswordLength,
		"least number of characters of a new password (set by 'users add' and 'users passwd'; passwords set before still sign in) [JWTGATE_MIN_PASSWORD_LENGTH]")
}

// passwordPolicy checks --min-password-length.
func passwordPolicy(e *env, cmd string, minLen int) (server.PasswordPolicy, bool) {
	p := server.PasswordPolicy{MinLength: minLen}
	if err := p.Validate(); err != nil || minLen == 0 {
		e.errorf("%s: --min-password-length %d: want 1 to %d", cmd, minLen, server.MaxPasswordLen)
		return p, false
	}
	return p, true
}

// result maps a user store error to an exit code.
func (e *env) result(cmd string, err error) int {
	err = storeErr(err, usersStoreTimeout)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, server.ErrBadPassword), errors.Is(err, server.ErrBadUsername):
		e.errorf("users %s: %v", cmd, err)
		return exitUsage
	}
	e.errorf("users %s: %v", cmd, err)
	return exitRejected
}

func usersAdd(e *env, args []string) int {
	var admin *bool
	more := func(fs *flag.FlagSet) {
		admin = fs.Bool("admin", false, "give the user the admin role: the admin API of jwtgate serve (/admin/...)")
	}
	return usersCmdFlags(e, "add", 1, args, more, func(d *server.Stores, pos []string, _ time.Duration) int {
		pw, err := e.readPassword()
		if err != nil {
			return e.result("add", err)
		}
		ctx, cancel := e.storeCtx()
		defer cancel()
		if err := e.result("add", d.Accounts(0).AddUser(ctx, server.CLIActor, pos[0], pw, *admin)); err != exitOK {
			return err
		}
		role := ""
		if *admin {
			role = " (admin)"
		}
		fmt.Fprintf(e.stdout, "added user %s%s\n", pos[0], role)
		return exitOK
	})
}

func usersPasswd(e *env, args []string) int {
	return usersCmd(e, "passwd", 1, args, func(d *server.Stores, pos []string, ttl time.Duration) int {
		ctx, cancel := e.storeCtx()
		_, err := d.Users.Get(ctx, pos[0]) // a disabled user too
		cancel()
		if err != nil {
			return e.result("passwd", err)
		}
		pw, err := e.readPassword()
		if err != nil {
			return e.result("passwd", err)
		}
		ctx, cancel = e.storeCtx()
		defer cancel()
		err = d.Accounts(ttl).SetPassword(ctx, server.CLIActor, pos[0], pw)
		if err == nil {
			err = d.WaitRevocations(ctx)
		} else if !errors.Is(err, server.ErrSessionsNotEnded) {
			return e.result("passwd", err)
		}
		if err != nil {
			// Every part of it is idempotent: running it again ends them.
			e.errorf("users passwd: the password of %s was changed, but its sessions could not be ended: %v; run 'jwtgate users passwd %s' again",
				pos[0], sessionsCause(err), pos[0])
			return exitRejected
		}
		fmt.Fprintf(e.stdout, "changed the password of %s and ended its sessions\n", pos[0])
		return exitOK
	})
}

func usersDelete(e *env, args []string) int {
	return usersCmd(e, "delete", 1, args, func(d *server.Stores, pos []string, ttl time.Duration) int {
		ctx, cancel := e.storeCtx()
		defer cancel()
		// Also for a user already gone, the sessions are ended: a delete
		// whose sessions could not be ended is completed by running it
		// again.
		derr := d.Accounts(ttl).DeleteUser(ctx, server.CLIActor, pos[0])
		notFound := errors.Is(derr, server.ErrUserNotFound)
		var err error
		switch {
		case errors.Is(derr, server.ErrSessionsNotEnded):
			err = derr
		case derr != nil && !notFound:
			return e.result("delete", derr)
		default:
			err = d.WaitRevocations(ctx)
		}
		if err != nil {
			what := "deleted user " + pos[0] + ", but its sessions could not be ended"
			if notFound {
				what = "the sessions of " + pos[0] + " could not be ended"
			}
			e.errorf("users delete: %s: %v; run 'jwtgate users delete %s' again", what, sessionsCause(err), pos[0])
			return exitRejected
		}
		if notFound {
			return e.result("delete", derr)
		}
		fmt.Fprintf(e.stdout, "deleted user %s\n", pos[0])
		return exitOK
	})
}

func usersList(e *env, args []string) int {
	return usersCmd(e, "list", 0, args, func(d *server.Stores, _ []string, _ time.Duration) int {
		ctx, cancel := e.storeCtx()
		defer cancel()
		names, err := d.Users.List(ctx)
		if err != nil {
			return e.result("list", err)
		}
		for _, n := range names {
			fmt.Fprintln(e.stdout, n)
		}
		return exitOK
	})
}

// sessionsCause is the cause of a failure to end sessions, without the
// words the command's own message says already.
func sessionsCause(err error) string {
	msg := strings.TrimPrefix(err.Error(), server.ErrSessionsNotEnded.Error()+": ")
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("the store did not answer within %v: %s", usersStoreTimeout, msg)
	}
	return msg
}

// readPassword reads a new password: from the terminal without echo,
// asked twice, or else as the first line of standard input.
func (e *env) readPassword() (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", fmt.Errorf("%w: the passwords differ", server.ErrBadPassword)
		}
		return string(p1), server.ValidPassword(string(p1))
	}
	r := bufio.NewReader(io.LimitReader(e.stdin, server.MaxPasswordLen+3))
	line, err := r.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	return line, server.ValidPassword(line)
}
