package interop

import (
	"bytes"
	"context"
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

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/cmd/jwtgate/server/servertest"
	"github.com/jwtgate/jwtgate/internal/readmecode"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// A real token service (server.Server, as jwtgate serve runs it) issues
// tokens; resource servers in Go (a verify-only Gate), Node (jose) and
// Python (PyJWT) check them as the README shows, with the published
// JWKS, the issuer, the audience and typ: the access token passes, the
// refresh token never does.

const resourceAudience = "https://api.example"

// startTokenService runs the token service on a loopback port with one
// user and returns its issuer URL.
func startTokenService(t *testing.T) string {
	t.Helper()
	ts, _ := servertest.Start(t, servertest.Options{
		Username: "alice", Password: "correct horse battery staple", Audience: resourceAudience,
	})
	return ts.URL
}

// loginTokens logs alice in and returns her access and refresh tokens.
func loginTokens(t *testing.T, issuer string) (access, refresh string) {
	t.Helper()
	resp, err := http.Post(issuer+"/login", "application/json",
		strings.NewReader(`{"username":"alice","password":"correct horse battery staple"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || resp.StatusCode != 200 || body.Access == "" || body.Refresh == "" {
		t.Fatalf("login: %d %s", resp.StatusCode, raw)
	}
	return body.Access, body.Refresh
}

// README begin
// newResourceGate returns a Gate that accepts the access tokens of the
// jwtgate serve at issuer, for audience, and nothing else.
func newResourceGate(issuer, audience string) (*jwtgate.Gate, io.Closer, error) {
	keys, err := jwk.NewRemoteSet(issuer+"/.well-known/jwks.json", jwk.RemoteOptions{})
	if err != nil {
		return nil, nil, err
	}
	gate, err := jwtgate.New(jwtgate.Config{
		Keys:              keys,
		Tokens:            jwtgate.TokensRFC9068, // typ at+jwt, aud, iat in ms
		ExpectedIssuers:   []string{issuer},
		ExpectedAudiences: []string{audience},
	})
	if err != nil {
		keys.Close()
		return nil, nil, err
	}
	return gate, keys, nil
}

// README end

// resourceResult is one token's outcome in the scripts' output.
type resourceResult struct {
	Claims map[string]any  `json:"claims"`
	Error  json.RawMessage `json:"error"`
	// PlainError: the refusal of a check of issuer and audience alone.
	PlainError json.RawMessage `json:"plain_error"`
}

// runResourceServer runs a script of node/ or python/ on the tokens.
func runResourceServer(t *testing.T, interp, script, issuer string, tokens ...string) []resourceResult {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"issuer": issuer, "audience": resourceAudience, "tokens": tokens})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, interp, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", interp, script, err, stderr.String())
	}
	var res []resourceResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(tokens) {
		t.Fatalf("%s: %v: %s", script, err, out)
	}
	return res
}

func TestResourceServersAcceptOnlyAccessTokens(t *testing.T) {
	issuer := startTokenService(t)
	access, refresh := loginTokens(t, issuer)
	tokens := []string{access, refresh}
	check := func(t *testing.T, res []resourceResult) {
		t.Helper()
		if res[0].Error != nil || res[0].Claims["sub"] != "alice" {
			t.Errorf("access token refused: %s %v", res[0].Error, res[0].Claims)
		}
		if res[1].Error == nil {
			t.Errorf("refresh token accepted as an access token: %v", res[1].Claims)
		}
		t.Logf("refresh token refused: %s", res[1].Error)
		if res[0].PlainError != nil {
			t.Errorf("access token refused by issuer and audience alone: %s", res[0].PlainError)
		}
		if res[1].PlainError == nil {
			t.Errorf("refresh token accepted by a check of issuer and audience (no typ)")
		}
		t.Logf("refresh token refused without typ check too: %s", res[1].PlainError)
	}

	t.Run("go", func(t *testing.T) {
		gate, keys, err := newResourceGate(issuer, resourceAudience)
		if err != nil {
			t.Fatal(err)
		}
		defer keys.Close()
		// A verifier that checks issuer and audience but not typ.
		set, err := jwk.NewRemoteSet(issuer+"/.well-known/jwks.json", jwk.RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		plain, err := jwt.NewVerifier(set, jwt.VerifierOptions{Issuers: []string{issuer}, Audiences: []string{resourceAudience}})
		if err != nil {
			t.Fatal(err)
		}
		refusal := func(err error) json.RawMessage {
			if err == nil {
				return nil
			}
			msg, _ := json.Marshal(err.Error())
			return msg
		}
		var res []resourceResult
		for _, tok := range tokens {
			var r resourceResult
			if tk, err := gate.VerifyToken(context.Background(), tok, jwtgate.RouteOptions{}); err != nil {
				r.Error = refusal(err)
			} else {
				r.Claims = map[string]any{"sub": tk.Identity}
			}
			_, err := plain.Verify(context.Background(), tok)
			r.PlainError = refusal(err)
			res = append(res, r)
		}
		check(t, res)
		// Through the middleware too: 401 for the refresh token.
		h := gate.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		for tok, want := range map[string]int{access: 200, refresh: 401} {
			r := httptest.NewRequest("GET", "/orders", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != want {
				t.Errorf("GET /orders: %d, want %d: %s", w.Code, want, w.Body)
			}
		}
	})
	t.Run("jose", func(t *testing.T) {
		joseTool.require(t)
		node, err := joseTool.interp()
		if err != nil {
			t.Fatal(err)
		}
		check(t, runResourceServer(t, node, filepath.Join("node", "resource_server.mjs"), issuer, tokens...))
	})
	t.Run("pyjwt", func(t *testing.T) {
		pyjwtTool.require(t)
		py, err := pyjwtTool.interp()
		if err != nil {
			t.Fatal(err)
		}
		check(t, runResourceServer(t, py, filepath.Join("python", "resource_server.py"), issuer, tokens...))
	})
}

// TestResourceServerSnippetsInREADME: the README shows the code the test
// above runs, marked "README begin" and "README end" in each file.
func TestResourceServerSnippetsInREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"resource_server_test.go", filepath.Join("node", "resource_server.mjs"), filepath.Join("python", "resource_server.py")} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		snippet, err := readmecode.Region(string(src))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !strings.Contains(string(readme), snippet) {
			t.Errorf("README.md does not show the code of %s between its README markers:\n%s", file, snippet)
		}
	}
}
