package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// configVars are the environment variables of the flags of configFlags;
// "issuer" has none, so only the file sets it.
var configVars = map[string]string{
	"addr":           "JWTGATE_ADDR",
	"access-ttl":     "JWTGATE_ACCESS_TTL",
	"login-burst":    "JWTGATE_LOGIN_BURST",
	"secure-cookies": "JWTGATE_SECURE_COOKIES",
}

// configFlags returns a fresh flag set with a flag of each kind, and a
// --config flag as the command has.
func configFlags(e *env) *flag.FlagSet {
	fs := e.newFlags("test", "test [flags]")
	fs.String("addr", "127.0.0.1:8080", "listen address")
	fs.String("issuer", "", "issuer URL")
	fs.Duration("access-ttl", 15*time.Minute, "access token lifetime")
	fs.Int("login-burst", 10, "failed logins allowed at once")
	fs.Bool("secure-cookies", false, "mark cookies Secure")
	fs.String("config", "", "config file")
	return fs
}

var configDefaults = map[string]string{
	"addr": "127.0.0.1:8080", "issuer": "", "access-ttl": "15m0s", "login-burst": "10", "secure-cookies": "false",
}

// noFile, as the content of a case's file, means flagSources gets no file.
const noFile = "\x00no file"

type flagSourcesCase struct {
	name string
	args []string
	env  map[string]string
	file string // content of the config file, or noFile
	path string // if set, the file name given instead of the file written
	vars map[string]string
}

// runFlagSources runs flagSources on a fresh flag set with only the
// environment of c (every variable of configVars is cleared first).
func runFlagSources(t *testing.T, c flagSourcesCase) (fs *flag.FlagSet, ok bool, file, stdout, stderr string) {
	t.Helper()
	for _, v := range configVars {
		t.Setenv(v, "")
	}
	for k, v := range c.env {
		t.Setenv(k, v)
	}
	if c.file != noFile {
		file = filepath.Join(t.TempDir(), "jwtgate.json")
		if err := os.WriteFile(file, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if c.path != "" {
		file = c.path
	}
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	fs = configFlags(e)
	if err := fs.Parse(c.args); err != nil {
		t.Fatalf("parsing %q: %v", c.args, err)
	}
	vars := c.vars
	if vars == nil {
		vars = configVars
	}
	ok = flagSources(e, fs, vars, file)
	return fs, ok, file, out.String(), errb.String()
}

func TestFlagSources(t *testing.T) {
	exact := `{"addr": "0.0.0.0:1"}`
	exact += strings.Repeat(" ", maxInput-len(exact))
	for _, tc := range []struct {
		flagSourcesCase
		want map[string]string // flag values that differ from configDefaults
	}{
		{flagSourcesCase: flagSourcesCase{name: "defaults", file: noFile}},
		{flagSourcesCase: flagSourcesCase{name: "empty object", file: "{}"}},
		{flagSourcesCase: flagSourcesCase{name: "whitespace around the object", file: "\n\t {} \r\n\n"}},
		{
			flagSourcesCase: flagSourcesCase{name: "every JSON type from the file", file: `{
				"addr": "0.0.0.0:8443",
				"issuer": "https://auth.example",
				"access-ttl": "90s",
				"login-burst": 5,
				"secure-cookies": true
			}`},
			want: map[string]string{"addr": "0.0.0.0:8443", "issuer": "https://auth.example", "access-ttl": "1m30s", "login-burst": "5", "secure-cookies": "true"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "numbers as written", file: `{"login-burst": -1, "addr": 8080}`},
			want:            map[string]string{"login-burst": "-1", "addr": "8080"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "false and a boolean as a string", args: []string{"-login-burst", "3"}, file: `{"secure-cookies": "true"}`},
			want:            map[string]string{"secure-cookies": "true", "login-burst": "3"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "boolean false", file: `{"secure-cookies": false}`},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "escapes and non-ASCII", file: `{"\u0061ddr": "h\u00f6st:1", "issuer": "https://ünï.example/\"x\""}`},
			want:            map[string]string{"addr": "höst:1", "issuer": `https://ünï.example/"x"`},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "file of exactly 1 MiB", file: exact},
			want:            map[string]string{"addr": "0.0.0.0:1"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "environment only", file: noFile, env: map[string]string{
				"JWTGATE_ADDR": "env:1", "JWTGATE_ACCESS_TTL": "1h", "JWTGATE_LOGIN_BURST": "-1", "JWTGATE_SECURE_COOKIES": "true",
			}},
			want: map[string]string{"addr": "env:1", "access-ttl": "1h0m0s", "login-burst": "-1", "secure-cookies": "true"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "environment over file", env: map[string]string{"JWTGATE_ADDR": "env:1"},
				file: `{"addr": "file:1", "login-burst": 4}`},
			want: map[string]string{"addr": "env:1", "login-burst": "4"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "flag over environment over file", args: []string{"-addr", "flag:1"},
				env: map[string]string{"JWTGATE_ADDR": "env:1"}, file: `{"addr": "file:1"}`},
			want: map[string]string{"addr": "flag:1"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "flag over file", args: []string{"--access-ttl=2m"}, file: `{"access-ttl": "1h"}`},
			want:            map[string]string{"access-ttl": "2m0s"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "flag set to its default still wins", args: []string{"-login-burst", "10", "-secure-cookies=false"},
				env: map[string]string{"JWTGATE_LOGIN_BURST": "7"}, file: `{"login-burst": 5, "secure-cookies": true}`},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "empty environment variable does not override the file",
				env: map[string]string{"JWTGATE_ADDR": ""}, file: `{"addr": "file:1"}`},
			want: map[string]string{"addr": "file:1"},
		},
		{
			flagSourcesCase: flagSourcesCase{name: "each flag from its own source", args: []string{"-addr", "flag:1"},
				env:  map[string]string{"JWTGATE_ACCESS_TTL": "5m", "JWTGATE_ADDR": "env:1"},
				file: `{"login-burst": 2, "access-ttl": "9m", "issuer": "https://file.example"}`},
			want: map[string]string{"addr": "flag:1", "access-ttl": "5m0s", "login-burst": "2", "issuer": "https://file.example"},
		},
		{
			// Values are checked by the flag that uses them: the command
			// line wins over a bad value elsewhere, as it always did.
			flagSourcesCase: flagSourcesCase{name: "bad values not used", args: []string{"-access-ttl", "1m", "-login-burst", "1"},
				env: map[string]string{"JWTGATE_ACCESS_TTL": "bogus"}, file: `{"login-burst": "many", "access-ttl": "soon"}`},
			want: map[string]string{"access-ttl": "1m0s", "login-burst": "1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, ok, _, stdout, stderr := runFlagSources(t, tc.flagSourcesCase)
			if !ok || stdout != "" || stderr != "" {
				t.Fatalf("flagSources = %v\nstdout: %s\nstderr: %s", ok, stdout, stderr)
			}
			for name, def := range configDefaults {
				want, set := tc.want[name]
				if !set {
					want = def
				}
				if got := fs.Lookup(name).Value.String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestFlagSourcesErrors(t *testing.T) {
	long := strings.Repeat("k", 200)
	for _, tc := range []struct {
		flagSourcesCase
		want    []string // in the message on stderr, after "config file FILE: " when fromFile
		notWant []string
		// fromFile: the message starts "jwtgate: config file FILE: "
		fromFile bool
	}{
		{flagSourcesCase: flagSourcesCase{name: "missing file", path: filepath.Join(os.TempDir(), "jwtgate-no-such-dir", "nope.json")},
			fromFile: true, want: []string{"cannot open it", "no such file"}},
		{flagSourcesCase: flagSourcesCase{name: "directory", path: os.TempDir()},
			fromFile: true, want: []string{"cannot read it"}},
		{flagSourcesCase: flagSourcesCase{name: "empty file", file: ""}, fromFile: true, want: []string{"empty"}},
		{flagSourcesCase: flagSourcesCase{name: "blank file", file: " \n\t\n"}, fromFile: true, want: []string{"empty"}},
		{flagSourcesCase: flagSourcesCase{name: "too large", file: `{"addr": "` + strings.Repeat("a", maxInput) + `"}`},
			fromFile: true, want: []string{"larger than 1048576 bytes"}},
		{flagSourcesCase: flagSourcesCase{name: "too large by one byte", file: `{}` + strings.Repeat(" ", maxInput-1)},
			fromFile: true, want: []string{"larger than 1048576 bytes"}},
		{flagSourcesCase: flagSourcesCase{name: "invalid UTF-8 value", file: "{\"addr\": \"a\xffb\"}"},
			fromFile: true, want: []string{"not valid UTF-8"}},
		{flagSourcesCase: flagSourcesCase{name: "invalid UTF-8 key", file: "{\"add\xc3\": \"x\"}"},
			fromFile: true, want: []string{"not valid UTF-8"}},
		{flagSourcesCase: flagSourcesCase{name: "byte order mark", file: "\ufeff{}"}, fromFile: true, want: []string{"byte order mark"}},
		{flagSourcesCase: flagSourcesCase{name: "missing value", file: `{"addr": }`}, fromFile: true, want: []string{"invalid JSON at byte"}},
		{flagSourcesCase: flagSourcesCase{name: "missing colon", file: `{"addr" "x"}`}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "trailing comma", file: `{"addr": "x",}`}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "unquoted key", file: `{addr: "x"}`}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "single quotes", file: `{'addr': 'x'}`}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "comment", file: "// settings\n{}"}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "unterminated object", file: `{"addr": "x"`}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "unterminated string", file: `{"addr": "x`}, fromFile: true, want: []string{"invalid JSON"}},
		{flagSourcesCase: flagSourcesCase{name: "top-level array", file: `[{"addr": "x"}]`}, fromFile: true, want: []string{"want one JSON object"}},
		{flagSourcesCase: flagSourcesCase{name: "top-level string", file: `"addr"`}, fromFile: true, want: []string{"want one JSON object"}},
		{flagSourcesCase: flagSourcesCase{name: "top-level null", file: `null`}, fromFile: true, want: []string{"want one JSON object"}},
		{flagSourcesCase: flagSourcesCase{name: "two objects", file: `{"addr": "x"} {"addr": "y"}`},
			fromFile: true, want: []string{"data after the JSON object"}},
		{flagSourcesCase: flagSourcesCase{name: "trailing garbage", file: `{"addr": "x"}x`},
			fromFile: true, want: []string{"data after the JSON object"}},
		{flagSourcesCase: flagSourcesCase{name: "trailing brace", file: `{"addr": "x"}}`},
			fromFile: true, want: []string{"data after the JSON object"}},
		{flagSourcesCase: flagSourcesCase{name: "duplicate key", file: `{"addr": "a", "login-burst": 1, "addr": "b"}`},
			fromFile: true, want: []string{`key "addr" appears twice`}},
		{flagSourcesCase: flagSourcesCase{name: "duplicate key with escapes", file: `{"addr": "a", "\u0061ddr": "b"}`},
			fromFile: true, want: []string{`key "addr" appears twice`}},
		{flagSourcesCase: flagSourcesCase{name: "duplicate key even when the flag is given", args: []string{"-addr", "flag:1"}, file: `{"addr": "a", "addr": "b"}`},
			fromFile: true, want: []string{`key "addr" appears twice`}},
		{flagSourcesCase: flagSourcesCase{name: "unknown key", file: `{"addr": "x", "password": "hunter2"}`},
			fromFile: true, want: []string{`unknown key "password"`, "not a flag"}, notWant: []string{"hunter2", "addr"}},
		{flagSourcesCase: flagSourcesCase{name: "unknown key, case differs", file: `{"Addr": "x"}`},
			fromFile: true, want: []string{`unknown key "Addr"`}},
		{flagSourcesCase: flagSourcesCase{name: "unknown key with dashes", file: `{"--addr": "x"}`},
			fromFile: true, want: []string{`unknown key "--addr"`}},
		{flagSourcesCase: flagSourcesCase{name: "unknown key when every flag is given",
			args: []string{"-addr=a", "-issuer=i", "-access-ttl=1m", "-login-burst=1", "-secure-cookies"}, file: `{"adr": "x"}`},
			fromFile: true, want: []string{`unknown key "adr"`}},
		{flagSourcesCase: flagSourcesCase{name: "long unknown key is shortened", file: `{"` + long + `": 1}`},
			fromFile: true, want: []string{`unknown key "` + long[:64] + `..."`}, notWant: []string{long[:65]}},
		{flagSourcesCase: flagSourcesCase{name: "config key", file: `{"config": "other.json"}`},
			fromFile: true, want: []string{`key "config" is not allowed`}, notWant: []string{"other.json"}},
		{flagSourcesCase: flagSourcesCase{name: "null value", file: `{"addr": null}`},
			fromFile: true, want: []string{`key "addr": null`}},
		{flagSourcesCase: flagSourcesCase{name: "array value", file: `{"addr": ["a", "b"]}`},
			fromFile: true, want: []string{`key "addr": want a string, number or boolean`}, notWant: []string{`"a"`}},
		{flagSourcesCase: flagSourcesCase{name: "empty array value", file: `{"login-burst": []}`},
			fromFile: true, want: []string{`key "login-burst": want a string, number or boolean`}},
		{flagSourcesCase: flagSourcesCase{name: "object value", file: `{"issuer": {"url": "secret"}}`},
			fromFile: true, want: []string{`key "issuer": want a string, number or boolean`}, notWant: []string{"secret"}},
		{flagSourcesCase: flagSourcesCase{name: "bad duration in file", file: `{"access-ttl": "soon"}`},
			fromFile: true, want: []string{`key "access-ttl": invalid value "soon" for flag -access-ttl`}},
		{flagSourcesCase: flagSourcesCase{name: "duration without unit in file", file: `{"access-ttl": 30}`},
			fromFile: true, want: []string{`key "access-ttl": invalid value "30"`}},
		{flagSourcesCase: flagSourcesCase{name: "bad int in file", file: `{"login-burst": "many"}`},
			fromFile: true, want: []string{`key "login-burst": invalid value "many" for flag -login-burst`}},
		{flagSourcesCase: flagSourcesCase{name: "fraction for an int in file", file: `{"login-burst": 1.5}`},
			fromFile: true, want: []string{`key "login-burst": invalid value "1.5"`}},
		{flagSourcesCase: flagSourcesCase{name: "exponent for an int in file", file: `{"login-burst": 1e3}`},
			fromFile: true, want: []string{`key "login-burst": invalid value "1e3"`}},
		{flagSourcesCase: flagSourcesCase{name: "number for a bool in file", file: `{"secure-cookies": 2}`},
			fromFile: true, want: []string{`key "secure-cookies": invalid value "2"`}},
		{flagSourcesCase: flagSourcesCase{name: "bool for an int in file", file: `{"login-burst": true}`},
			fromFile: true, want: []string{`key "login-burst": invalid value "true"`}},
		{flagSourcesCase: flagSourcesCase{name: "bad duration in environment", file: noFile, env: map[string]string{"JWTGATE_ACCESS_TTL": "soon"}},
			want: []string{`jwtgate: JWTGATE_ACCESS_TTL="soon": invalid value "soon" for flag -access-ttl`}},
		{flagSourcesCase: flagSourcesCase{name: "bad int in environment", file: noFile, env: map[string]string{"JWTGATE_LOGIN_BURST": "many"}},
			want: []string{`jwtgate: JWTGATE_LOGIN_BURST="many": invalid value "many" for flag -login-burst`}},
		{flagSourcesCase: flagSourcesCase{name: "bad bool in environment", file: noFile, env: map[string]string{"JWTGATE_SECURE_COOKIES": "yes please"}},
			want: []string{`jwtgate: JWTGATE_SECURE_COOKIES="yes please": invalid value`}},
		{flagSourcesCase: flagSourcesCase{name: "bad environment over a good file", env: map[string]string{"JWTGATE_LOGIN_BURST": "x"},
			file: `{"login-burst": 3}`},
			want: []string{`jwtgate: JWTGATE_LOGIN_BURST="x": invalid value`}},
		{flagSourcesCase: flagSourcesCase{name: "variable of an undefined flag", file: noFile, vars: map[string]string{"adr": "JWTGATE_ADR"}},
			want: []string{`internal error`, "JWTGATE_ADR", `"adr"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, file, stdout, stderr := runFlagSources(t, tc.flagSourcesCase)
			if ok {
				t.Fatalf("flagSources = true, want an error\nstderr: %s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
			if !strings.HasPrefix(stderr, "jwtgate: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not one jwtgate: line: %q", stderr)
			}
			msg := stderr
			if tc.fromFile {
				prefix := "jwtgate: config file " + file + ": "
				if !strings.HasPrefix(stderr, prefix) {
					t.Fatalf("stderr %q does not start with %q", stderr, prefix)
				}
				msg = strings.TrimPrefix(stderr, prefix)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("stderr %q contains %q", stderr, w)
				}
			}
		})
	}
}
