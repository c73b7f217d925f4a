package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/internal/skipnote"
)

// An impl is an independent JWT implementation that jwtgate is tested
// against: a Go peer called in-process, or PyJWT or Node's jose driven
// through a small script. Requests are batched so that an external tool is
// started once per batch, not once per token.
type impl struct {
	name string

	// exactSign: numbers in the claims reach the token exactly (beyond
	// 2^53 too). exactVerify: the claims a verification returns keep them
	// exactly. When false, numbers are compared as float64.
	exactSign, exactVerify bool
	// fracDates: fractional NumericDates survive signing and verifying.
	fracDates bool
	// setsHeader: the signer can add header members (kid).
	setsHeader bool
	// checksIssuer: the verifier can be asked for an issuer.
	checksIssuer bool

	// require skips or fails the test when the implementation is missing.
	require func(t *testing.T)
	sign    func(t *testing.T, reqs []signReq) []string
	verify  func(t *testing.T, reqs []verifyReq) []verifyResult
}

// signReq asks an implementation to sign claims with key under alg (which
// may differ from key.Alg, for algorithm-substitution cases).
type signReq struct {
	key    *KeyPair
	alg    string
	claims json.RawMessage
	header map[string]any
}

// verifyReq asks an implementation to verify token with key, accepting only
// alg, at testNow, requiring the audience and (where supported) the issuer.
type verifyReq struct {
	key      *KeyPair
	alg      string
	token    string
	audience string
	issuer   string
}

// verifyResult is what an implementation said about a token: the claims
// (numbers as json.Number) and, where it reports them, the header; or the
// error and, for the external tools, its refusal kind.
type verifyResult struct {
	claims map[string]any
	header map[string]any
	err    error
	kind   string
}

// goPeerImpl wraps a Go peer of peers.go. Claims reach it as a map with
// json.Number values, which both Go peers write out verbatim; its verifier
// returns float64 numbers and checks no issuer.
func goPeerImpl(p Peer, fracDates bool) impl {
	return impl{
		name:        p.Name,
		exactSign:   true,
		exactVerify: false,
		fracDates:   fracDates,
		require:     func(*testing.T) {},
		sign: func(t *testing.T, reqs []signReq) []string {
			t.Helper()
			out := make([]string, len(reqs))
			for i, r := range reqs {
				if len(r.header) > 0 {
					t.Fatalf("%s: cannot set header members", p.Name)
				}
				token, err := p.Sign(r.key.WithAlg(r.alg), decodeObject(t, r.claims))
				if err != nil {
					t.Fatalf("%s: sign %s: %v", p.Name, r.alg, err)
				}
				out[i] = token
			}
			return out
		},
		verify: func(t *testing.T, reqs []verifyReq) []verifyResult {
			t.Helper()
			out := make([]verifyResult, len(reqs))
			for i, r := range reqs {
				claims, err := p.Verify(r.key.WithAlg(r.alg), r.token, VerifyOptions{Now: testNow, Audience: r.audience})
				if err != nil {
					out[i].err = err
					continue
				}
				b, err := json.Marshal(claims)
				if err != nil {
					t.Fatal(err)
				}
				out[i].claims = decodeObject(t, b)
			}
			return out
		},
	}
}

// ---- external tools ----

// servicesRequired reports whether a missing external tool fails the tests
// instead of skipping them.
func servicesRequired() bool {
	return os.Getenv("JWTGATE_REQUIRE_SERVICES") == "1" || os.Getenv("CI") == "true"
}

// extTool is a script in this directory that speaks the JSON request
// protocol described in python/pyjwt_tool.py and node/jose_tool.mjs.
type extTool struct {
	name    string
	script  string                 // relative to the package directory
	interp  func() (string, error) // the interpreter that runs the script
	install string                 // how to install what is missing

	once     sync.Once
	probeErr error
	version  string
}

// maxAge is the maximum token age given to the external verifiers. jose
// checks iat (and refuses one in the future) only when given one.
const maxAge = 10 * 365 * 24 * 3600

var (
	pyjwtTool = &extTool{
		name:   "pyjwt",
		script: filepath.Join("python", "pyjwt_tool.py"),
		interp: func() (string, error) {
			// Debian's python3-jwt is installed for the system interpreter,
			// which a pyenv or venv python3 earlier on PATH does not see.
			if p := os.Getenv("JWTGATE_PYTHON"); p != "" {
				return p, nil
			}
			if _, err := os.Stat("/usr/bin/python3"); err == nil {
				return "/usr/bin/python3", nil
			}
			return exec.LookPath("python3")
		},
		install: "install PyJWT and cryptography for /usr/bin/python3 with " +
			"`apt-get update && apt-get install -y python3-jwt python3-cryptography` " +
			"(or run .ci/interop-deps.sh); JWTGATE_PYTHON selects another interpreter",
	}
	joseTool = &extTool{
		name:   "jose",
		script: filepath.Join("node", "jose_tool.mjs"),
		interp: func() (string, error) {
			if p := os.Getenv("JWTGATE_NODE"); p != "" {
				return p, nil
			}
			return exec.LookPath("node")
		},
		install: "install Node.js 20 or later and then jose with " +
			"`npm ci --prefix interop/node` from the repository root " +
			"(or run .ci/interop-deps.sh); JWTGATE_NODE selects another node",
	}
)

func (x *extTool) probe() error {
	x.once.Do(func() {
		interp, err := x.interp()
		if err != nil {
			x.probeErr = err
			return
		}
		out, err := exec.Command(interp, x.script, "--probe").Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) && len(ee.Stderr) > 0 {
				err = fmt.Errorf("%w: %s", err, errorLine(ee.Stderr))
			}
			x.probeErr = fmt.Errorf("%s %s --probe: %w", interp, x.script, err)
			return
		}
		x.version = strings.TrimSpace(string(out))
	})
	return x.probeErr
}

// errorLine picks the telling line of an interpreter's error output: the
// last one that names an error (Python's traceback ends with it, Node's
// stack trace is followed by other lines), or else the last one.
func errorLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Error") {
			return strings.TrimSpace(lines[i])
		}
	}
	return lines[len(lines)-1]
}

// require skips the test when the tool is missing, or fails it when
// JWTGATE_REQUIRE_SERVICES=1 or CI=true.
func (x *extTool) require(t *testing.T) {
	t.Helper()
	if err := x.probe(); err != nil {
		msg := fmt.Sprintf("%s is not available (%v): %s", x.name, err, x.install)
		if servicesRequired() {
			t.Fatal(msg)
		}
		skipnote.Skipf(t, "%s", msg)
	}
}

// toolRequest is one request of the tools' protocol.
type toolRequest struct {
	Op       string          `json:"op"`
	Alg      string          `json:"alg"`
	JWK      JWK             `json:"jwk"`
	Claims   json.RawMessage `json:"claims,omitempty"`
	Header   map[string]any  `json:"header,omitempty"`
	Token    string          `json:"token,omitempty"`
	Now      int64           `json:"now,omitempty"`
	Audience string          `json:"audience,omitempty"`
	Issuer   string          `json:"issuer,omitempty"`
	MaxAge   int64           `json:"max_age,omitempty"`
}

// toolResponse is one response of the tools' protocol.
type toolResponse struct {
	Token  string          `json:"token"`
	Claims json.RawMessage `json:"claims"`
	Header map[string]any  `json:"header"`
	Error  *struct {
		Kind    string `json:"kind"`
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// run sends reqs to the tool in one process and returns its responses.
func (x *extTool) run(t *testing.T, reqs []toolRequest) []toolResponse {
	t.Helper()
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	interp, err := x.interp()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(interp, x.script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", x.name, err, stderr.Bytes())
	}
	var out []toolResponse
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s: bad output %q: %v\nstderr:\n%s", x.name, stdout.Bytes(), err, stderr.Bytes())
	}
	if len(out) != len(reqs) {
		t.Fatalf("%s: %d responses to %d requests", x.name, len(out), len(reqs))
	}
	return out
}

// jwkFor returns k's JWK for alg: private to sign, public to verify.
func jwkFor(t *testing.T, k *KeyPair, alg string, private bool) JWK {
	t.Helper()
	var j JWK
	var err error
	if private {
		j, err = k.PrivateJWK()
	} else {
		j, err = k.PublicJWK()
	}
	if err != nil {
		t.Fatal(err)
	}
	j = maps.Clone(j)
	j["alg"] = alg
	return j
}

// extImpl wraps an external tool. Its numbers are exact when exact is set
// (Python's integers) and doubles otherwise (JavaScript's).
func extImpl(x *extTool, exact bool) impl {
	return impl{
		name:         x.name,
		exactSign:    exact,
		exactVerify:  exact,
		fracDates:    true,
		setsHeader:   true,
		checksIssuer: true,
		require:      x.require,
		sign: func(t *testing.T, reqs []signReq) []string {
			t.Helper()
			treqs := make([]toolRequest, len(reqs))
			for i, r := range reqs {
				treqs[i] = toolRequest{Op: "sign", Alg: r.alg, JWK: jwkFor(t, r.key, r.alg, true), Claims: r.claims, Header: r.header}
			}
			out := make([]string, len(reqs))
			for i, resp := range x.run(t, treqs) {
				if resp.Token == "" {
					t.Fatalf("%s: sign %s: no token in response %+v", x.name, reqs[i].alg, resp)
				}
				out[i] = resp.Token
			}
			return out
		},
		verify: func(t *testing.T, reqs []verifyReq) []verifyResult {
			t.Helper()
			treqs := make([]toolRequest, len(reqs))
			for i, r := range reqs {
				treqs[i] = toolRequest{
					Op: "verify", Alg: r.alg, JWK: jwkFor(t, r.key, r.alg, false), Token: r.token,
					Now: testNow.Unix(), Audience: r.audience, Issuer: r.issuer, MaxAge: maxAge,
				}
			}
			out := make([]verifyResult, len(reqs))
			for i, resp := range x.run(t, treqs) {
				switch {
				case resp.Error != nil:
					out[i].err = fmt.Errorf("%s: %s", resp.Error.Type, resp.Error.Message)
					out[i].kind = resp.Error.Kind
				case resp.Claims == nil:
					t.Fatalf("%s: verify: neither claims nor error in response %+v", x.name, resp)
				default:
					out[i].claims = decodeObject(t, resp.Claims)
					out[i].header = resp.Header
				}
			}
			return out
		},
	}
}

// impls lists the implementations jwtgate is tested against. jwx writes
// NumericDates as whole seconds, so fractional dates do not survive it.
func impls() []impl {
	var out []impl
	for _, p := range Peers() {
		out = append(out, goPeerImpl(p, p.Name != "jwx"))
	}
	return append(out, extImpl(pyjwtTool, true), extImpl(joseTool, false))
}

func TestExternalToolsPresent(t *testing.T) {
	for _, x := range []*extTool{pyjwtTool, joseTool} {
		t.Run(x.name, func(t *testing.T) {
			x.require(t)
			t.Logf("%s: %s", x.name, x.version)
		})
	}
}
