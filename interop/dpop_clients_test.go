package interop

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/internal/readmecode"
	"github.com/jwtgate/jwtgate/interop/internal/serveproc"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke"
)

// DPoP (RFC 9449) clients against a real "jwtgate serve" that requires
// server nonces, and against a resource server protected by a Gate with
// its own nonces: Node's oauth4webapi and dpop packages, and this
// module's dpop.Transport. Each gets a DPoP-bound token at the token
// endpoint (client_credentials) and at /login, calls the Gate's route and
// /userinfo with proofs, refreshes at /refresh, and is refused when it
// sends a bound token as a bearer token.

// dpopService is serve with a client, a user, and a Gate-protected API.
type dpopService struct {
	*oauthService
	user, password string
	api            string // URL of GET /orders, behind a Gate with DPoP
}

func startDPoPService(t *testing.T) *dpopService {
	t.Helper()
	dir := t.TempDir()
	bin, err := serveproc.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	out, err := serveproc.Run(bin, nil, "clients", "add", "billing", "--data-dir", data, "--scopes", "read", "--audience", resourceAudience)
	if err != nil {
		t.Fatal(err)
	}
	s := &dpopService{oauthService: &oauthService{secretID: serveproc.Field(out, "client_id"), secret: serveproc.Field(out, "client_secret")},
		user: "dora", password: "a long enough password " + rand.Text()}
	if _, err := serveproc.RunInput(bin, nil, s.password+"\n", "users", "add", s.user, "--data-dir", data); err != nil {
		t.Fatal(err)
	}
	s.svc, err = serveproc.Start(bin, nil, filepath.Join(dir, "serve.log"), "--data-dir", data, "--dpop-nonce")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.svc.Stop(); err != nil {
			t.Errorf("%v\n%s", err, s.svc.LogTail())
		}
		if t.Failed() {
			t.Logf("jwtgate serve's log:\n%s", s.svc.LogTail())
		}
	})
	s.issuer = s.svc.URL
	s.tokenURL = s.issuer + "/oauth/token"

	// The resource server: its own replay store and nonces.
	keys, err := jwk.NewRemoteSet(s.issuer+"/.well-known/jwks.json", jwk.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	nonces, err := dpop.NewNonces(dpop.NonceOptions{Secret: []byte(rand.Text() + rand.Text())})
	if err != nil {
		t.Fatal(err)
	}
	v, err := dpop.NewVerifier(dpop.Options{Replay: revoke.NewMemory(revoke.MemoryOptions{}), Nonces: nonces})
	if err != nil {
		t.Fatal(err)
	}
	gate, err := jwtgate.New(jwtgate.Config{Keys: keys, Tokens: jwtgate.TokensRFC9068,
		ExpectedIssuers: []string{s.issuer}, ExpectedAudiences: []string{resourceAudience}, DPoP: v})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", gate.Protect(jwtgate.RouteOptions{Scopes: []string{"read"}, DPoP: jwtgate.DPoPRequired})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, _ := jwtgate.TokenFrom(r.Context())
			_ = json.NewEncoder(w).Encode(map[string]any{"sub": tok.Identity, "jkt": tok.Thumbprint()})
		})))
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	s.api = api.URL + "/orders"
	return s
}

func TestDPoPClients(t *testing.T) {
	s := startDPoPService(t)
	t.Run("go", func(t *testing.T) { testDPoPTransport(t, s) })
	t.Run("node", func(t *testing.T) { testDPoPNode(t, s) })
}

// README begin
// dpopClients returns the HTTP clients of a DPoP client with a new key:
// tokens asks for tokens bound to it (x/oauth2's clientcredentials over
// it, or a POST to /login), api(token) sends a token with a proof by the
// key. jkt is the key's thumbprint, the cnf.jkt of its tokens. Both answer
// a server's nonce challenge (use_dpop_nonce) by themselves.
func dpopClients() (tokens *http.Client, api func(token string) *http.Client, jkt string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	prover, err := dpop.NewProver(key, jwt.ES256, nil)
	if err != nil {
		return nil, nil, "", err
	}
	tokens = &http.Client{Transport: &dpop.Transport{Prover: prover}}
	api = func(token string) *http.Client {
		return &http.Client{Transport: &dpop.Transport{Prover: prover,
			Token: func(context.Context) (string, error) { return token, nil }}}
	}
	return tokens, api, prover.Thumbprint(), nil
}

// then: cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: issuer + "/oauth/token"}
// tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, tokens)) (tok.TokenType is "DPoP"),
// and api(tok.AccessToken).Get("https://api.example.com/orders").
// README end

// testDPoPTransport: x/oauth2's clientcredentials over dpop.Transport at
// the token endpoint, then dpop.Transport with the token on the Gate's
// route; /login and /userinfo the same way.
func testDPoPTransport(t *testing.T, s *dpopService) {
	ctx := context.Background()
	tokens, api, jkt, err := dpopClients()
	if err != nil {
		t.Fatal(err)
	}
	_, thief, _, err := dpopClients()
	if err != nil {
		t.Fatal(err)
	}
	// The token request carries Basic credentials: the Transport adds a
	// proof without ath, and retries with the nonce serve asks for.
	cc := &clientcredentials.Config{ClientID: s.secretID, ClientSecret: s.secret, TokenURL: s.tokenURL, Scopes: []string{"read"}}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, tokens))
	if err != nil {
		t.Fatalf("client_credentials over dpop.Transport: %v", err)
	}
	if tok.TokenType != "DPoP" || claimJKT(t, tok.AccessToken) != jkt {
		t.Fatalf("token_type %q, jkt %q, want DPoP and %q", tok.TokenType, claimJKT(t, tok.AccessToken), jkt)
	}
	status, body := getBody(t, api(tok.AccessToken), s.api)
	if status != 200 || !strings.Contains(body, jkt) {
		t.Errorf("Gate route with dpop.Transport: %d %s", status, body)
	}
	// The same token as a bearer token, and with a proof by another key.
	req, _ := http.NewRequest("GET", s.api, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if status, _ := doBody(t, http.DefaultClient, req); status != 401 {
		t.Errorf("bound token as bearer: %d", status)
	}
	if status, body := getBody(t, thief(tok.AccessToken), s.api); status != 401 || !strings.Contains(body, "invalid_dpop_proof") {
		t.Errorf("bound token with another key's proof: %d %s", status, body)
	}

	// /login with a proof, then /userinfo with the bound token.
	req, _ = http.NewRequest("POST", s.issuer+"/login", strings.NewReader(`{"username":"`+s.user+`","password":"`+s.password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	status, body = doBody(t, tokens, req)
	var login map[string]string
	json.Unmarshal([]byte(body), &login)
	if status != 200 || login["token_type"] != "DPoP" || claimJKT(t, login["access_token"]) != jkt {
		t.Fatalf("login over dpop.Transport: %d %s", status, body)
	}
	if status, body := getBody(t, api(login["access_token"]), s.issuer+"/userinfo"); status != 200 || !strings.Contains(body, s.user) {
		t.Errorf("userinfo over dpop.Transport: %d %s", status, body)
	}
	if status, _ := getBody(t, thief(login["access_token"]), s.issuer+"/userinfo"); status != 401 {
		t.Errorf("userinfo with another key: %d", status)
	}
}

// TestDPoPSnippetInREADME: the README shows dpopClients.
func TestDPoPSnippetInREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("dpop_clients_test.go")
	if err != nil {
		t.Fatal(err)
	}
	snippet, err := readmecode.Region(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), snippet) {
		t.Errorf("README.md does not show the code of dpop_clients_test.go between its README markers:\n%s", snippet)
	}
}

func getBody(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doBody(t, c, req)
}

func doBody(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// claimJKT returns the cnf.jkt of a token, unverified.
func claimJKT(t *testing.T, tok string) string {
	t.Helper()
	c, err := jwtgate.UnverifiedClaims(tok)
	if err != nil {
		t.Fatalf("token %q: %v", tok, err)
	}
	cnf, _ := c["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

func testDPoPNode(t *testing.T, s *dpopService) {
	dpopNodeTool.require(t)
	node, err := dpopNodeTool.interp()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{
		"issuer":   s.issuer,
		"client":   map[string]string{"client_id": s.secretID, "client_secret": s.secret},
		"gate_url": s.api,
		"username": s.user, "password": s.password,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("node", "dpop_client.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node dpop_client.mjs: %v\n%s", err, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("dpop_client.mjs: %v: %s", err, out)
	}
	jkt, _ := res["thumbprint"].(string)
	ok := func(step string) map[string]any {
		t.Helper()
		r, found := res[step].(map[string]any)
		if !found {
			t.Errorf("%s: not run (an earlier step failed): %s", step, out)
			return nil
		}
		if e, bad := r["error"]; bad {
			t.Errorf("%s: refused: %v", step, e)
			return nil
		}
		return r
	}
	if as := ok("discovery"); as != nil {
		if algs, _ := as["dpop_signing_alg_values_supported"].([]any); !containsAny(algs, "ES256") {
			t.Errorf("discovery: dpop_signing_alg_values_supported %v", as["dpop_signing_alg_values_supported"])
		}
	}
	if r := ok("client_credentials"); r != nil {
		tok, _ := r["access_token"].(string)
		if !strings.EqualFold(r["token_type"].(string), "DPoP") || jkt == "" || claimJKT(t, tok) != jkt {
			t.Errorf("client_credentials: %v (key %s)", r, jkt)
		}
	}
	if r := ok("gate"); r != nil {
		body, _ := r["body"].(map[string]any)
		if r["status"] != float64(200) || body["jkt"] != jkt {
			t.Errorf("gate: %v", r)
		}
	}
	if r := ok("gate_as_bearer"); r != nil {
		if r["status"] != float64(401) {
			t.Errorf("gate_as_bearer: %v", r)
		}
	}
	if r := ok("login"); r != nil {
		tok, _ := r["access_token"].(string)
		ref, _ := r["refresh_token"].(string)
		if r["status"] != float64(200) || r["token_type"] != "DPoP" || claimJKT(t, tok) != jkt || claimJKT(t, ref) != jkt {
			t.Errorf("login: %v", r)
		}
	}
	for _, step := range []string{"userinfo", "userinfo_after_refresh"} {
		if r := ok(step); r != nil {
			body, _ := r["body"].(map[string]any)
			if r["status"] != float64(200) || body["username"] != s.user {
				t.Errorf("%s: %v", step, r)
			}
		}
	}
	if r := ok("refresh"); r != nil {
		tok, _ := r["access_token"].(string)
		if r["status"] != float64(200) || r["token_type"] != "DPoP" || claimJKT(t, tok) != jkt {
			t.Errorf("refresh: %v", r)
		}
	}
}

// dpopNodeTool is dpop_client.mjs, with oauth4webapi and dpop installed
// (.ci/interop-deps.sh).
var dpopNodeTool = &extTool{
	name:   "oauth4webapi and dpop",
	script: filepath.Join("node", "dpop_client.mjs"),
	interp: joseTool.interp,
	install: "install Node.js 20 or later and then oauth4webapi and dpop with " +
		"`npm ci --prefix interop/node` from the repository root " +
		"(or run .ci/interop-deps.sh); JWTGATE_NODE selects another node",
}
