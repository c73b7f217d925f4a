package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// bin is the jwtgate command built once for these tests: they run it as a
// real process on real files.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jwtgate-cli")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "jwtgate")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func jwtgate(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	return runEnv(t, dir, nil, stdin, args...)
}

// runEnv is jwtgate with env added to the environment.
func runEnv(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running jwtgate %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	r := jwtgate(t, dir, stdin, args...)
	if r.code != 0 {
		t.Fatalf("jwtgate %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func writeTemp(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerateSignVerifyEveryKeyFile(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			out := mustRun(t, dir, "", "keys", "generate", "--alg", alg, "--out", "k")
			if !strings.Contains(out, "wrote k.pem") || !strings.Contains(out, "kid ") {
				t.Fatalf("generate output: %s", out)
			}
			for name, mode := range map[string]os.FileMode{"k.pem": 0o600, "k.jwk": 0o600, "k.pub.jwk": 0o644} {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != mode {
					t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
				}
			}
			pub, err := os.ReadFile(filepath.Join(dir, "k.pub.jwk"))
			if err != nil {
				t.Fatal(err)
			}
			for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`} {
				if bytes.Contains(pub, []byte(private)) {
					t.Fatalf("public JWK has %s: %s", private, pub)
				}
			}
			if got := mustRun(t, dir, "", "keys", "public", "k.jwk"); strings.TrimSpace(got) != strings.TrimSpace(string(pub)) {
				t.Errorf("keys public k.pem = %s, want %s", got, pub)
			}
			if a, b := mustRun(t, dir, "", "keys", "thumbprint", "k.pem"), mustRun(t, dir, "", "keys", "thumbprint", "k.pub.jwk"); a != b || len(strings.TrimSpace(a)) != 43 {
				t.Errorf("thumbprints differ: %q %q", a, b)
			}
			for _, signWith := range []string{"k.pem", "k.jwk"} {
				tok := strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--key", signWith, "--alg", alg, "--exp", "1h", "--now", "1767225600", "--claims", `{"sub":"alice","n":12345678901234567890}`))
				for _, verifyWith := range []string{"k.pub.jwk", "k.pem", "k.jwk"} {
					got := mustRun(t, dir, "", "token", "verify", "--key", verifyWith, "--now", "1767225700", tok)
					var claims map[string]json.Number
					dec := json.NewDecoder(strings.NewReader(got))
					dec.UseNumber()
					var m map[string]any
					if err := dec.Decode(&m); err != nil {
						t.Fatalf("verify output %q: %v", got, err)
					}
					_ = claims
					if m["sub"] != "alice" || m["exp"].(json.Number) != "1767229200" || m["iat"].(json.Number) != "1767225600" || m["n"].(json.Number) != "12345678901234567890" {
						t.Errorf("claims %v", m)
					}
				}
				// The token is refused once expired, with exit status 1 and one line.
				r := jwtgate(t, dir, "", "token", "verify", "--key", "k.pub.jwk", "--now", "1767229200", tok)
				if r.code != 1 || !strings.Contains(r.stderr, "expired") || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
					t.Errorf("expired token: %+v", r)
				}
			}
		})
	}
}

func TestHMACSecretFiles(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "", "keys", "generate", "--alg", "HS384", "--out", "s")
	if !strings.Contains(out, "s.key") || strings.Contains(out, ".pub.jwk") {
		t.Fatalf("output %s", out)
	}
	secret, _ := os.ReadFile(filepath.Join(dir, "s.key"))
	if len(secret) != 48 {
		t.Fatalf("secret is %d bytes", len(secret))
	}
	tok := strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--secret", "s.key", "--alg", "HS384", "--claims", `{"sub":"x"}`))
	mustRun(t, dir, "", "token", "verify", "--secret", "s.key", tok)
	mustRun(t, dir, "", "token", "verify", "--key", "s.jwk", tok)
	mustRun(t, dir, tok+"\n", "token", "verify", "--secret", "s.key", "--alg", "HS384", "-")
	if r := jwtgate(t, dir, "", "keys", "public", "s.jwk"); r.code != 2 {
		t.Errorf("keys public of a secret: %+v", r)
	}
	writeTemp(t, dir, "short", "too short")
	if r := jwtgate(t, dir, "", "token", "verify", "--secret", "short", tok); r.code != 2 || !strings.Contains(r.stderr, "32") {
		t.Errorf("short secret: %+v", r)
	}
	writeTemp(t, dir, "other", strings.Repeat("x", 48))
	if r := jwtgate(t, dir, "", "token", "verify", "--secret", "other", tok); r.code != 1 || !strings.Contains(r.stderr, "signature") {
		t.Errorf("wrong secret: %+v", r)
	}
}

// rfcVector is a file of ../../testdata/rfc.
type rfcVector struct {
	Key     json.RawMessage `json:"key"`
	Payload string          `json:"payload"`
	Token   string          `json:"token"`
}

func loadVector(t *testing.T, name string) rfcVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rfc", name))
	if err != nil {
		t.Fatal(err)
	}
	var v rfcVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRFCVectors(t *testing.T) {
	dir := t.TempDir()
	// RFC 7515 A.1-A.4: JWTs with exp 1300819380 (2011-03-22T18:43:00Z).
	for _, name := range []string{"rfc7515-a1.json", "rfc7515-a2.json", "rfc7515-a3.json"} {
		v := loadVector(t, name)
		key := writeTemp(t, dir, name, string(v.Key))
		got := mustRun(t, dir, "", "token", "verify", "--key", key, "--now", "1300819379", v.Token)
		if strings.TrimSpace(got) != v.Payload {
			t.Errorf("%s: payload %q", name, got)
		}
		if r := jwtgate(t, dir, "", "token", "verify", "--key", key, "--now", "1300819380", v.Token); r.code != 1 || !strings.Contains(r.stderr, "expired") {
			t.Errorf("%s at exp: %+v", name, r)
		}
	}
	// RFC 7520 section 4 and RFC 8037: the payload is not JSON; --jws
	// checks only the signature and prints the payload as it is.
	for _, name := range []string{"rfc7515-a4.json", "rfc7520-4.1.json", "rfc7520-4.2.json", "rfc7520-4.3.json", "rfc7520-4.4.json", "rfc8037-a.json"} {
		v := loadVector(t, name)
		key := writeTemp(t, dir, name, string(v.Key))
		if got := mustRun(t, dir, "", "token", "verify", "--jws", "--key", key, v.Token); got != v.Payload {
			t.Errorf("%s: payload %q, want %q", name, got, v.Payload)
		}
		if r := jwtgate(t, dir, "", "token", "verify", "--key", key, v.Token); r.code != 1 || !strings.Contains(r.stderr, "malformed") {
			t.Errorf("%s without --jws: %+v", name, r)
		}
	}
	// RFC 7515 A.5: an unsecured JWS is never accepted.
	v := loadVector(t, "rfc7515-a5.json")
	key := writeTemp(t, dir, "a1.jwk", string(loadVector(t, "rfc7515-a1.json").Key))
	if r := jwtgate(t, dir, "", "token", "verify", "--jws", "--key", key, v.Token); r.code != 1 || !strings.Contains(r.stderr, "none") {
		t.Errorf("alg none: %+v", r)
	}
}

func TestVerifyClaimsFlags(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "s", strings.Repeat("k", 32))
	sign := func(claims string) string {
		return strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--secret", "s", "--alg", "HS256", "--now", "1767225600", "--claims", claims))
	}
	withAud := sign(`{"aud":["api","web"],"iss":"https://id.example","exp":1767229200}`)
	plain := sign(`{"sub":"u"}`)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"aud ok", []string{"--aud", "web", "--iss", "https://id.example", withAud}, 0, ""},
		{"aud comma list", []string{"--aud", "x,api", withAud}, 0, ""},
		{"aud unexpected", []string{withAud}, 1, "audience"},
		{"aud wrong", []string{"--aud", "x", withAud}, 1, "audience"},
		{"iss wrong", []string{"--aud", "api", "--iss", "other", withAud}, 1, "issuer"},
		{"require", []string{"--require", "sub,exp", plain}, 1, "exp"},
		{"require ok", []string{"--require", "sub,iat", plain}, 0, ""},
		{"leeway", []string{"--aud", "api", "--now", "1767229230", "--leeway", "31s", withAud}, 0, ""},
		{"leeway seconds", []string{"--aud", "api", "--now", "1767229230", "--leeway", "31", withAud}, 0, ""},
		{"leeway too short", []string{"--aud", "api", "--now", "1767229230", "--leeway", "30s", withAud}, 1, "expired"},
		{"iat in future", []string{"--now", "1767225599", plain}, 1, "future"},
		{"alg allowlist", []string{"--alg", "HS256", plain}, 0, ""},
		{"alg not allowed by key", []string{"--alg", "HS512", plain}, 2, "HS512"},
		{"alg unknown", []string{"--alg", "none", plain}, 2, "unknown"},
		{"flags after token", []string{plain, "--require", "sub"}, 0, ""},
		{"garbage token", []string{"not-a-token"}, 1, "malformed"},
		{"tampered", []string{plain[:len(plain)-3] + "AAA"}, 1, "signature"},
		{"bad leeway", []string{"--leeway", "soon", plain}, 2, "leeway"},
		{"bad now", []string{"--now", "yesterday", plain}, 2, "now"},
		{"two tokens", []string{plain, plain}, 2, "exactly one"},
		{"no token", []string{}, 2, "exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"token", "verify", "--secret", "s"}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "--now") {
				args = append(args, "--now", "1767225700")
			}
			r := jwtgate(t, dir, "", args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", r.code, r.stderr, tt.code, tt.msg)
			}
			if tt.code != 0 && strings.Count(r.stderr, "\n") != 1 && tt.code == 1 {
				t.Fatalf("rejection is not one line: %q", r.stderr)
			}
		})
	}
}

func TestUsageAndBadInput(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "garbage", "this is not a key")
	writeTemp(t, dir, "truncated.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n")
	writeTemp(t, dir, "s", strings.Repeat("k", 32))
	writeTemp(t, dir, "claims.json", `{"sub":"from-file"}`)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"no args", "", nil, 2, "Usage"},
		{"help", "", []string{"--help"}, 0, ""},
		{"unknown", "", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown sub", "", []string{"token", "frob"}, 2, "unknown command"},
		{"missing sub", "", []string{"keys"}, 2, "missing subcommand"},
		{"verify help", "", []string{"token", "verify", "--help"}, 0, ""},
		{"sign help", "", []string{"token", "sign", "-h"}, 0, ""},
		{"decode help", "", []string{"token", "decode", "--help"}, 0, ""},
		{"generate help", "", []string{"keys", "generate", "--help"}, 0, ""},
		{"thumbprint help", "", []string{"keys", "thumbprint", "--help"}, 0, ""},
		{"public help", "", []string{"keys", "public", "--help"}, 0, ""},
		{"unknown flag", "", []string{"token", "verify", "--frob", "x"}, 2, "frob"},
		{"no key", "", []string{"token", "verify", "a.b.c"}, 2, "--key"},
		{"key and secret", "", []string{"token", "verify", "--key", "s", "--secret", "s", "a.b.c"}, 2, "together"},
		{"missing key file", "", []string{"token", "verify", "--key", "nope", "a.b.c"}, 2, "nope"},
		{"garbage key", "", []string{"token", "verify", "--key", "garbage", "a.b.c"}, 2, "garbage"},
		{"truncated PEM", "", []string{"token", "verify", "--key", "truncated.pem", "a.b.c"}, 2, "truncated.pem"},
		{"sign no alg", "", []string{"token", "sign", "--secret", "s"}, 2, "--alg is required"},
		{"sign alg none", "", []string{"token", "sign", "--secret", "s", "--alg", "none"}, 2, "unknown"},
		{"sign claims not object", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `[1]`}, 2, "object"},
		{"sign claims broken", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{"a":`}, 2, "claims"},
		{"sign claims duplicate", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{"a":1,"a":2}`}, 2, "duplicate"},
		{"sign claims trailing", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{} {}`}, 2, "after"},
		{"sign claims duplicate nested", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{"x":{"a":1,"\u0061":2}}`}, 2, "duplicate"},
		{"sign claims lone surrogate", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{"a":"\ud800"}`}, 2, "surrogate"},
		{"sign claims too deep", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`}, 2, "nesting"},
		{"decode padded segment", "", []string{"token", "decode", "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln"}, 1, "base64url"},
		{"sign exp string", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", `{"exp":"soon"}`}, 2, "exp"},
		{"sign claims file", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", "@claims.json"}, 0, ""},
		{"sign claims stdin", `{"sub":"in"}`, []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", "-"}, 0, ""},
		{"sign claims missing file", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--claims", "@nope.json"}, 2, "nope.json"},
		{"sign wrong alg for key", "", []string{"token", "sign", "--secret", "s", "--alg", "RS256"}, 2, "RS256"},
		{"sign bad exp", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--exp", "-5m"}, 2, "--exp"},
		{"sign exp without unit", "", []string{"token", "sign", "--secret", "s", "--alg", "HS256", "--exp", "15"}, 2, `--exp "15" has no unit: write 15s for seconds, 15m for minutes`},
		{"generate no alg", "", []string{"keys", "generate"}, 2, "--alg is required"},
		{"generate small RSA", "", []string{"keys", "generate", "--alg", "RS256", "--bits", "1024"}, 2, "2048"},
		{"generate bits for EC", "", []string{"keys", "generate", "--alg", "ES256", "--bits", "384"}, 2, "fixed size"},
		{"thumbprint garbage", "", []string{"keys", "thumbprint", "garbage"}, 2, "garbage"},
		{"public no file", "", []string{"keys", "public"}, 2, "exactly one"},
		{"decode garbage", "", []string{"token", "decode", "abc"}, 1, "segments"},
		{"decode bad base64", "", []string{"token", "decode", "a=.b.c"}, 1, "base64url"},
		{"huge stdin", strings.Repeat("a", 2<<20), []string{"token", "verify", "--secret", "s", "-"}, 2, "larger"},
		{"huge token", "", []string{"token", "verify", "--secret", "s", strings.Repeat("a", 9000) + ".b.c"}, 1, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := jwtgate(t, dir, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr+r.stdout, tt.msg) {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit %d with %q", r.code, r.stdout, r.stderr, tt.code, tt.msg)
			}
			if tt.code == 0 && strings.Contains(strings.Join(tt.args, " "), "-h") && (r.stderr != "" || !strings.Contains(r.stdout, "Usage")) {
				t.Fatalf("help should go to stdout only: stdout %q, stderr %q", r.stdout, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
				t.Fatalf("panicked: %s", r.stderr)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "s", strings.Repeat("k", 32))
	tok := strings.TrimSpace(mustRun(t, dir, "", "token", "sign", "--secret", "s", "--alg", "HS256", "--kid", "k1", "--claims", `{"sub":"u","iat":1}`))
	r := jwtgate(t, dir, tok, "token", "decode", "-")
	if r.code != 0 || !strings.Contains(r.stderr, "without verification") {
		t.Fatalf("%+v", r)
	}
	var out struct {
		Header  map[string]any `json:"header"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Header["alg"] != "HS256" || out.Header["kid"] != "k1" || out.Payload["sub"] != "u" || out.Payload["iat"] != 1.0 {
		t.Errorf("decoded %+v", out)
	}
}

func TestGenerateToStdout(t *testing.T) {
	dir := t.TempDir()
	// An HMAC key printed is a JWK only, never raw bytes; it signs and
	// verifies as a --key file.
	hs := mustRun(t, dir, "", "keys", "generate", "--alg", "HS256")
	var jk map[string]any
	if err := json.Unmarshal([]byte(hs), &jk); err != nil || jk["kty"] != "oct" || jk["k"] == nil {
		t.Fatalf("keys generate --alg HS256 printed %q (%v), want one JWK", hs, err)
	}
	writeTemp(t, dir, "hs.jwk", hs)
	tok := mustRun(t, dir, "", "token", "sign", "--key", "hs.jwk", "--alg", "HS256", "--exp", "1m")
	mustRun(t, dir, tok, "token", "verify", "--key", "hs.jwk", "-")
	if help := mustRun(t, dir, "", "keys", "generate", "--help"); !strings.Contains(help, "never the raw bytes") {
		t.Fatalf("keys generate --help does not say what HS* prints:\n%s", help)
	}

	out := mustRun(t, dir, "", "keys", "generate", "--alg", "EdDSA", "--kid", "ed-1")
	if !strings.Contains(out, "BEGIN PRIVATE KEY") || strings.Count(out, `"kid":"ed-1"`) != 2 {
		t.Fatalf("output %s", out)
	}
	// Refuses to overwrite.
	mustRun(t, dir, "", "keys", "generate", "--alg", "ES256", "--out", "x")
	if r := jwtgate(t, dir, "", "keys", "generate", "--alg", "ES256", "--out", "x"); r.code != 2 || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("overwrite: %+v", r)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "x.pem"))
	mustRun(t, dir, "", "keys", "generate", "--alg", "ES256", "--out", "x", "--force")
	after, _ := os.ReadFile(filepath.Join(dir, "x.pem"))
	if bytes.Equal(before, after) {
		t.Fatal("--force did not replace the key")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.pem.tmp")); !os.IsNotExist(err) {
		t.Fatal("temporary file left behind")
	}
}
