package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxInput bounds what the command reads from a file or standard input.
const maxInput = 1 << 20

// errorf writes an error line, "jwtgate: " and the message without the
// package names of the errors in it (userMessage).
func (e *env) errorf(format string, args ...any) {
	msg := userMessage(fmt.Sprintf(format, args...))
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(e.stderr, "jwtgate: "+msg)
}

// oneLine flattens an error message to a single line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// newFlags returns a FlagSet that prints its usage to the command's stderr.
func (e *env) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: jwtgate %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after the positional
// arguments, and returns the positional ones. It reports false (and the
// exit code) when the command should stop: --help or a usage error.
func parse(e *env, fs *flag.FlagSet, args []string) ([]string, int, bool) {
	// Help is an answer, not an error: print it once, to stdout.
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil, exitOK, false
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(e.stdout)
				fs.Usage()
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// readArg returns the bytes named by a "value, @file or - for stdin"
// argument.
func (e *env) readArg(v string) ([]byte, error) {
	switch {
	case v == "-":
		return readLimited(e.stdin, "standard input")
	case strings.HasPrefix(v, "@"):
		return readFile(v[1:])
	}
	return []byte(v), nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, name)
}

func readLimited(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("%s is larger than %d bytes", what, maxInput)
	}
	return b, nil
}

// readToken returns a token from the argument or, for "-", from stdin,
// without surrounding whitespace.
func (e *env) readToken(arg string) (string, error) {
	b, err := e.readArg(arg)
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b)), nil
}

// parseUnix parses --now: Unix seconds, with an optional fraction.
func parseUnix(s string) (time.Time, error) {
	sec, frac, dot := strings.Cut(s, ".")
	// Digits only: strconv would also take a sign, and the fraction is
	// cut to nine digits before it is read, so junk after them would pass.
	if !allDigits(sec) || (dot && !allDigits(frac)) {
		return time.Time{}, fmt.Errorf("--now %q: want Unix seconds", s)
	}
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now %q: want Unix seconds", s)
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return time.Time{}, fmt.Errorf("--now %q: want Unix seconds", s)
		}
		nsec = int64(f)
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
	}
	return time.Unix(n, nsec), nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseDuration accepts Go durations ("90s", "1h30m") and plain seconds.
func parseDuration(flagName, s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(1<<62)/int64(time.Second) {
			return 0, fmt.Errorf("%s %q is out of range", flagName, s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 30s, 15m or 24h", flagName, s)
	}
	return d, nil
}

// parseLifetime is parseDuration without plain numbers: a lifetime of
// "15" is as likely minutes as seconds, so it asks for a unit.
func parseLifetime(flagName, s string) (time.Duration, error) {
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return 0, fmt.Errorf("%s %q has no unit: write %ss for seconds, %sm for minutes or %sh for hours", flagName, s, s, s, s)
	}
	return parseDuration(flagName, s)
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// writeFile writes a file with the given mode. Unless force is set, the
// file must not exist yet. With force, an existing file is replaced by a
// rename, so a crash never leaves half a key behind.
func writeFile(name string, data []byte, mode os.FileMode, force bool) error {
	if force {
		tmp := name + ".tmp"
		if err := writeFile(tmp, data, mode, false); err != nil {
			os.Remove(tmp)
			return err
		}
		return os.Rename(tmp, name)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flagGiven reports whether the flag name of fs was set: on the command
// line, or from a variable or config file (applySources).
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
