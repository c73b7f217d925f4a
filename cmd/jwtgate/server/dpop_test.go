package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
)

// dpopOpts configure the DPoP fixtures.
type dpopOpts struct {
	required bool
	secret   []byte // nonces keyed by it, when set
}

// newDPoPFixture is an OAuth fixture whose server takes DPoP proofs, with
// the data directory's revocation store as the replay store.
func newDPoPFixture(t *testing.T, opts dpopOpts) *oauthFixture {
	t.Helper()
	var o *oauthFixture
	o = newOAuthFixtureWith(t, func(cfg *Config) {
		cfg.LoginBurst = -1
		cfg.DPoP = newServerVerifier(t, cfg.Revocations.(dpop.ReplayStore), opts.secret, func() time.Time { return o.now() })
		cfg.DPoPRequired = opts.required
	})
	return o
}

func newServerVerifier(t *testing.T, replay dpop.ReplayStore, secret []byte, clock func() time.Time) *dpop.Verifier {
	t.Helper()
	vo := dpop.Options{Replay: replay, Clock: clock}
	if secret != nil {
		n, err := dpop.NewNonces(dpop.NonceOptions{Secret: secret, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		vo.Nonces = n
	}
	v, err := dpop.NewVerifier(vo)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newTestProver(t *testing.T, clock func() time.Time) (*dpop.Prover, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.NewProver(k, jwt.ES256, clock)
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

// proof makes a proof of p for method and path on the fixture's server.
func (o *oauthFixture) proof(t *testing.T, p *dpop.Prover, method, path, token, nonce string) string {
	t.Helper()
	u, err := url.Parse(o.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Proof(method, u, token, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dpopAuth(tok string) []string { return []string{"Authorization", "DPoP " + tok} }

func jktOf(t *testing.T, tok string) string {
	t.Helper()
	_, c := parts(t, tok)
	cnf, _ := c["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// wantDPoPChallenge checks a 401 of a protected route with the DPoP
// challenge and error code.
func wantDPoPChallenge(t *testing.T, what string, r reply, code string) {
	t.Helper()
	if r.status != http.StatusUnauthorized && !(code == "invalid_request" && r.status == http.StatusBadRequest) {
		t.Errorf("%s: status %d, want 401: %s", what, r.status, r.raw)
		return
	}
	wa := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(wa, "DPoP ") || !strings.Contains(wa, `algs="`) || !strings.Contains(wa, `error="`+code+`"`) {
		t.Errorf("%s: WWW-Authenticate %q, want a DPoP challenge with error %q", what, wa, code)
	}
}

func TestDPoPTokenEndpoint(t *testing.T) {
	o := newDPoPFixture(t, dpopOpts{})
	p, _ := newTestProver(t, o.now)

	// Metadata names the proof algorithms.
	r := o.do(t, "GET", "/.well-known/oauth-authorization-server", "", "")
	algs, _ := r.body["dpop_signing_alg_values_supported"].([]any)
	if len(algs) == 0 || algs[0] != "ES256" {
		t.Errorf("metadata: dpop_signing_alg_values_supported %v", r.body["dpop_signing_alg_values_supported"])
	}

	// client_credentials with a proof: a DPoP-bound access token.
	proof := o.proof(t, p, "POST", tokenPath, "", "")
	r = o.do(t, "POST", tokenPath, form, "grant_type=client_credentials", append(basic(o.secretID, o.secret), "DPoP", proof)...)
	wantStatus(t, "client_credentials with DPoP", r, 200)
	access, _ := r.body["access_token"].(string)
	if r.body["token_type"] != "DPoP" || jktOf(t, access) != p.Thumbprint() {
		t.Fatalf("client_credentials with DPoP: token_type %v, jkt %q, want %q", r.body["token_type"], jktOf(t, access), p.Thumbprint())
	}
	// The same proof again is a replay.
	r = o.do(t, "POST", tokenPath, form, "grant_type=client_credentials", append(basic(o.secretID, o.secret), "DPoP", proof)...)
	wantOAuthError(t, "replayed proof", r, 400, "invalid_dpop_proof")
	// Without a proof: a bearer token, as before.
	r = o.do(t, "POST", tokenPath, form, "grant_type=client_credentials", basic(o.secretID, o.secret)...)
	o.wantToken(t, "client_credentials without DPoP", r)

	// Introspection reports the binding (RFC 9449 section 6.2).
	r = o.do(t, "POST", introspectPath, form, url.Values{"token": {access}}.Encode(), basic(o.secretID, o.secret)...)
	wantStatus(t, "introspect", r, 200)
	cnf, _ := r.body["cnf"].(map[string]any)
	if r.body["active"] != true || r.body["token_type"] != "DPoP" || cnf["jkt"] != p.Thumbprint() {
		t.Errorf("introspect: %s", r.raw)
	}

	// A refresh token of a confidential client is not bound; each
	// refresh may bring a proof by any key, whose access token is bound to it.
	r = o.do(t, "POST", tokenPath, form, "grant_type=client_credentials",
		append(basic(o.refresherID, o.refresh), "DPoP", o.proof(t, p, "POST", tokenPath, "", ""))...)
	wantStatus(t, "refresher", r, 200)
	refresh, _ := r.body["refresh_token"].(string)
	if jktOf(t, refresh) != "" || r.body["token_type"] != "DPoP" {
		t.Fatalf("refresher: refresh token bound (%q) or token_type %v", jktOf(t, refresh), r.body["token_type"])
	}
	p2, _ := newTestProver(t, o.now)
	r = o.do(t, "POST", tokenPath, form, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode(),
		append(basic(o.refresherID, o.refresh), "DPoP", o.proof(t, p2, "POST", tokenPath, "", ""))...)
	wantStatus(t, "refresh with another key", r, 200)
	if a, _ := r.body["access_token"].(string); r.body["token_type"] != "DPoP" || jktOf(t, a) != p2.Thumbprint() {
		t.Errorf("refresh with another key: %v", r.body)
	}
	refresh, _ = r.body["refresh_token"].(string)
	r = o.do(t, "POST", tokenPath, form, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode(), basic(o.refresherID, o.refresh)...)
	o.wantToken(t, "refresh without DPoP", r)
}

func TestDPoPLoginAndRefresh(t *testing.T) {
	o := newDPoPFixture(t, dpopOpts{})
	p, _ := newTestProver(t, o.now)
	other, _ := newTestProver(t, o.now)
	creds := `{"username":"alice","password":"` + testPassword + `"}`

	r := o.do(t, "POST", "/login", "application/json", creds, "DPoP", o.proof(t, p, "POST", "/login", "", ""))
	wantStatus(t, "login with DPoP", r, 200)
	access, _ := r.body["access_token"].(string)
	refresh, _ := r.body["refresh_token"].(string)
	if r.body["token_type"] != "DPoP" || jktOf(t, access) != p.Thumbprint() || jktOf(t, refresh) != p.Thumbprint() {
		t.Fatalf("login with DPoP: %s", r.raw)
	}
	// Cookies cannot carry bound tokens.
	r = o.do(t, "POST", "/login?cookies=1", "application/json", creds, "DPoP", o.proof(t, p, "POST", "/login", "", ""))
	wantOAuthError(t, "login with DPoP and cookies", r, 400, "invalid_request")
	// /auth too.
	r = o.do(t, "POST", "/auth", "application/json", creds, "DPoP", o.proof(t, p, "POST", "/auth", "", ""))
	if a, _ := r.body["access_token"].(string); r.status != 200 || r.body["token_type"] != "DPoP" || jktOf(t, a) != p.Thumbprint() {
		t.Errorf("/auth with DPoP: %s", r.raw)
	}

	// The bound token works with a proof by its key, and only so.
	r = o.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", o.proof(t, p, "GET", "/userinfo", access, ""))...)
	if r.status != 200 || r.body["username"] != "alice" {
		t.Fatalf("userinfo with DPoP: %d %s", r.status, r.raw)
	}
	r = o.do(t, "GET", "/userinfo", "", "", bearer(access)...)
	if r.status != 401 {
		t.Errorf("bound token as bearer: %d %s", r.status, r.raw)
	}
	r = o.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", o.proof(t, other, "GET", "/userinfo", access, ""))...)
	wantDPoPChallenge(t, "proof by another key", r, "invalid_dpop_proof")

	// /refresh takes the bound refresh token with a proof by its key, and
	// binds the new tokens to it.
	r = o.do(t, "POST", "/refresh", "", "", bearer(refresh)...)
	if r.status != 401 {
		t.Errorf("bound refresh token as bearer: %d %s", r.status, r.raw)
	}
	r = o.do(t, "POST", "/refresh", "", "", append(dpopAuth(refresh), "DPoP", o.proof(t, other, "POST", "/refresh", refresh, ""))...)
	wantDPoPChallenge(t, "refresh with another key", r, "invalid_dpop_proof")
	r = o.do(t, "POST", "/refresh", "", "", append(dpopAuth(refresh), "DPoP", o.proof(t, p, "POST", "/refresh", refresh, ""))...)
	wantStatus(t, "refresh with DPoP", r, 200)
	a2, _ := r.body["access_token"].(string)
	r2, _ := r.body["refresh_token"].(string)
	if r.body["token_type"] != "DPoP" || jktOf(t, a2) != p.Thumbprint() || jktOf(t, r2) != p.Thumbprint() {
		t.Fatalf("refresh with DPoP: %s", r.raw)
	}

	// A login without a proof still gets bearer tokens.
	access, _ = o.login(t, "alice", testPassword)
	if jktOf(t, access) != "" {
		t.Error("login without DPoP: bound token")
	}
	wantStatus(t, "bearer userinfo", o.do(t, "GET", "/userinfo", "", "", bearer(access)...), 200)
}

// TestDPoPBadProofs sends bad proofs to the token endpoint and to a
// protected route: each is refused with invalid_dpop_proof.
func TestDPoPBadProofs(t *testing.T) {
	o := newDPoPFixture(t, dpopOpts{})
	p, key := newTestProver(t, o.now)
	other, _ := newTestProver(t, o.now)
	r := o.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"`+testPassword+`"}`,
		"DPoP", o.proof(t, p, "POST", "/login", "", ""))
	wantStatus(t, "login", r, 200)
	access, _ := r.body["access_token"].(string)
	bearerToken, _ := o.login(t, "alice", testPassword)

	signer, err := jwt.NewPrivateKey(key, jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	pubJWK := jwkJSON(t, &key.PublicKey, false)
	privJWK := jwkJSON(t, key, true)
	octJWK, _ := json.Marshal(map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	hmacKey, err := jwt.NewHMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	userinfo := o.srv.URL + "/userinfo"
	// claims of a good proof for GET /userinfo with access, edited.
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"jti": rand.Text(), "htm": "GET", "htu": userinfo, "iat": o.now().Unix(), "ath": dpop.AccessTokenHash(access)}
		if edit != nil {
			edit(c)
		}
		return c
	}
	signed := func(k *jwt.Key, alg jwt.Algorithm, jwkHeader json.RawMessage, c map[string]any) string {
		s, err := jwt.NewSigner(k, alg, jwt.SignerOptions{Type: dpop.Type, Header: map[string]any{"jwk": jwkHeader}})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := func(edit func(map[string]any)) string { return signed(signer, jwt.ES256, pubJWK, claims(edit)) }
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt","jwk":`+string(pubJWK)+`}`)) + "." +
		base64.RawURLEncoding.EncodeToString(mustJSON(t, claims(nil))) + "."
	replayed := good(nil)
	wantStatus(t, "first use", o.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", replayed)...), 200)

	tests := []struct {
		name   string
		token  string
		proofs []string
		code   string
	}{
		{"replayed", access, []string{replayed}, "invalid_dpop_proof"},
		{"other method", access, []string{good(func(c map[string]any) { c["htm"] = "POST" })}, "invalid_dpop_proof"},
		{"other URI", access, []string{good(func(c map[string]any) { c["htu"] = o.srv.URL + "/logout" })}, "invalid_dpop_proof"},
		{"other host", access, []string{good(func(c map[string]any) { c["htu"] = "http://evil.example.com/userinfo" })}, "invalid_dpop_proof"},
		{"htu with query", access, []string{good(func(c map[string]any) { c["htu"] = userinfo + "?a=1" })}, "invalid_dpop_proof"},
		{"htu with fragment", access, []string{good(func(c map[string]any) { c["htu"] = userinfo + "#top" })}, "invalid_dpop_proof"},
		{"htu with user information", access, []string{good(func(c map[string]any) { c["htu"] = strings.Replace(userinfo, "://", "://user@", 1) })}, "invalid_dpop_proof"},
		{"stale iat", access, []string{good(func(c map[string]any) { c["iat"] = o.now().Add(-2 * time.Minute).Unix() })}, "invalid_dpop_proof"},
		{"future iat", access, []string{good(func(c map[string]any) { c["iat"] = o.now().Add(time.Minute).Unix() })}, "invalid_dpop_proof"},
		{"HS256", access, []string{signed(hmacKey, jwt.HS256, octJWK, claims(nil))}, "invalid_dpop_proof"},
		{"none", access, []string{none}, "invalid_dpop_proof"},
		{"private jwk", access, []string{signed(signer, jwt.ES256, privJWK, claims(nil))}, "invalid_dpop_proof"},
		{"symmetric jwk", access, []string{signed(signer, jwt.ES256, octJWK, claims(nil))}, "invalid_dpop_proof"},
		{"missing ath", access, []string{good(func(c map[string]any) { delete(c, "ath") })}, "invalid_dpop_proof"},
		{"wrong ath", access, []string{good(func(c map[string]any) { c["ath"] = dpop.AccessTokenHash(bearerToken) })}, "invalid_dpop_proof"},
		{"token bound to another key", access, []string{o.proof(t, other, "GET", "/userinfo", access, "")}, "invalid_dpop_proof"},
		{"two DPoP headers", access, []string{good(nil), good(nil)}, "invalid_dpop_proof"},
		{"over 8 KiB", access, []string{good(func(c map[string]any) { c["pad"] = strings.Repeat("p", 8<<10) })}, "invalid_dpop_proof"},
		{"no proof", access, nil, "invalid_dpop_proof"},
		{"unbound token under DPoP", bearerToken, []string{o.proof(t, p, "GET", "/userinfo", bearerToken, "")}, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run("userinfo/"+tt.name, func(t *testing.T) {
			hdr := dpopAuth(tt.token)
			for _, pr := range tt.proofs {
				hdr = append(hdr, "DPoP", pr)
			}
			wantDPoPChallenge(t, tt.name, o.do(t, "GET", "/userinfo", "", "", hdr...), tt.code)
		})
	}

	// At the token endpoint: 400 invalid_dpop_proof (RFC 9449 section 5).
	tokenURL := o.srv.URL + tokenPath
	tc := func(edit func(map[string]any)) map[string]any {
		return claims(func(c map[string]any) {
			c["htm"], c["htu"] = "POST", tokenURL
			delete(c, "ath")
			if edit != nil {
				edit(c)
			}
		})
	}
	tokenReplay := signed(signer, jwt.ES256, pubJWK, tc(nil))
	wantStatus(t, "token endpoint, first use", o.do(t, "POST", tokenPath, form, "grant_type=client_credentials",
		append(basic(o.secretID, o.secret), "DPoP", tokenReplay)...), 200)
	bad := []struct {
		name   string
		proofs []string
	}{
		{"replayed", []string{tokenReplay}},
		{"other URI", []string{signed(signer, jwt.ES256, pubJWK, tc(func(c map[string]any) { c["htu"] = userinfo }))}},
		{"htu with query", []string{signed(signer, jwt.ES256, pubJWK, tc(func(c map[string]any) { c["htu"] = tokenURL + "?x" }))}},
		{"other method", []string{signed(signer, jwt.ES256, pubJWK, tc(func(c map[string]any) { c["htm"] = "GET" }))}},
		{"stale iat", []string{signed(signer, jwt.ES256, pubJWK, tc(func(c map[string]any) { c["iat"] = o.now().Add(-time.Hour).Unix() }))}},
		{"HS256", []string{signed(hmacKey, jwt.HS256, octJWK, tc(nil))}},
		{"private jwk", []string{signed(signer, jwt.ES256, privJWK, tc(nil))}},
		{"two DPoP headers", []string{signed(signer, jwt.ES256, pubJWK, tc(nil)), signed(signer, jwt.ES256, pubJWK, tc(nil))}},
		{"empty", []string{""}},
	}
	for _, tt := range bad {
		t.Run("token/"+tt.name, func(t *testing.T) {
			hdr := basic(o.secretID, o.secret)
			for _, pr := range tt.proofs {
				hdr = append(hdr, "DPoP", pr)
			}
			wantOAuthError(t, tt.name, o.do(t, "POST", tokenPath, form, "grant_type=client_credentials", hdr...), 400, "invalid_dpop_proof")
		})
	}
}

func jwkJSON(t *testing.T, k any, private bool) json.RawMessage {
	t.Helper()
	var key *jwt.Key
	var err error
	if private {
		key, err = jwt.NewPrivateKey(k.(*ecdsa.PrivateKey), jwt.ES256)
	} else {
		key, err = jwt.NewPublicKey(k, jwt.ES256)
	}
	if err != nil {
		t.Fatal(err)
	}
	jk, err := jwk.NewKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	if private {
		b, err = jk.MarshalPrivate()
	} else {
		b, err = jk.MarshalJSON()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDPoPNonces: with nonces, a proof without one or with a stale one
// is refused with use_dpop_nonce and a fresh nonce; the nonce of one
// instance is valid on another with the same secret, and a proof used on
// one is a replay on the other (they share the revocation store).
func TestDPoPNonces(t *testing.T) {
	secret := []byte("an instance-shared secret of 32+ bytes!!")
	a := newDPoPFixture(t, dpopOpts{secret: secret})
	p, _ := newTestProver(t, a.now)

	r := a.do(t, "POST", tokenPath, form, "grant_type=client_credentials", append(basic(a.secretID, a.secret), "DPoP", a.proof(t, p, "POST", tokenPath, "", ""))...)
	wantOAuthError(t, "no nonce", r, 400, "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("no DPoP-Nonce")
	}
	r = a.do(t, "POST", tokenPath, form, "grant_type=client_credentials", append(basic(a.secretID, a.secret), "DPoP", a.proof(t, p, "POST", tokenPath, "", nonce))...)
	wantStatus(t, "with the nonce", r, 200)
	if r.header.Get("DPoP-Nonce") == "" {
		t.Error("a success does not give the current nonce")
	}

	// A second server with the same secret and revocation store, as a
	// second instance; its own clock is the first one's.
	srvB := newTestServerLike(t, a, func(cfg *Config) {
		cfg.DPoP = newServerVerifier(t, a.data.Revocations, secret, a.now)
	})
	login := func(srvURL, nonce string, pr *dpop.Prover) reply {
		u, _ := url.Parse(srvURL + "/login")
		proof, err := pr.Proof("POST", u, "", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return doURL(t, "POST", srvURL+"/login", `{"username":"alice","password":"`+testPassword+`"}`, "application/json", "DPoP", proof)
	}
	r = login(srvB, nonce, p)
	wantStatus(t, "nonce of A on B", r, 200)
	access, _ := r.body["access_token"].(string)

	// The proof used on B is a replay on A.
	u, _ := url.Parse(a.srv.URL + "/userinfo")
	proof, _ := p.Proof("GET", u, access, nonce)
	wantStatus(t, "userinfo on A", a.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", proof)...), 200)
	rb := doURL(t, "GET", srvB+"/userinfo", "", "", append(dpopAuth(access), "DPoP", proof)...)
	// B's URL differs from A's: the same proof is for another URI there.
	wantDPoPChallenge(t, "A's proof on B", rb, "invalid_dpop_proof")
	wantDPoPChallenge(t, "replay on A", a.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", proof)...), "invalid_dpop_proof")

	// A protected route wants a nonce too, and says which.
	proof, _ = p.Proof("GET", u, access, "")
	r = a.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", proof)...)
	wantDPoPChallenge(t, "userinfo without nonce", r, "use_dpop_nonce")
	if r.header.Get("DPoP-Nonce") == "" {
		t.Error("userinfo without nonce: no DPoP-Nonce")
	}

	// Past its lifetime (5 minutes) a nonce is stale on every instance.
	a.offset.Add(int64(6 * time.Minute))
	p2, _ := newTestProver(t, a.now)
	r = login(srvB, nonce, p2)
	if r.status != 400 || r.body["error"] != "use_dpop_nonce" || r.header.Get("DPoP-Nonce") == "" || r.header.Get("DPoP-Nonce") == nonce {
		t.Errorf("stale nonce on B: %d %s", r.status, r.raw)
	}
	r = login(a.srv.URL, nonce, p2)
	wantOAuthError(t, "stale nonce on A", r, 400, "use_dpop_nonce")
	r = login(a.srv.URL, r.header.Get("DPoP-Nonce"), p2)
	wantStatus(t, "fresh nonce", r, 200)

	// The client helper answers the nonce challenge by itself.
	p3, _ := newTestProver(t, a.now)
	c := &http.Client{Transport: &dpop.Transport{Prover: p3}}
	req, _ := http.NewRequest("POST", srvB+"/login", strings.NewReader(`{"username":"alice","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	access, _ = body["access_token"].(string)
	if resp.StatusCode != 200 || jktOf(t, access) != p3.Thumbprint() {
		t.Fatalf("Transport login: %d %v", resp.StatusCode, body)
	}
	tc := &http.Client{Transport: &dpop.Transport{Prover: p3, Token: func(context.Context) (string, error) { return access, nil }}}
	resp, err = tc.Get(a.srv.URL + "/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Transport userinfo on A: %d", resp.StatusCode)
	}
}

func TestDPoPRequired(t *testing.T) {
	o := newDPoPFixture(t, dpopOpts{required: true})
	p, _ := newTestProver(t, o.now)
	r := o.do(t, "POST", tokenPath, form, "grant_type=client_credentials", basic(o.secretID, o.secret)...)
	wantOAuthError(t, "token without proof", r, 400, "invalid_dpop_proof")
	r = o.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"`+testPassword+`"}`)
	wantOAuthError(t, "login without proof", r, 400, "invalid_dpop_proof")
	// A bearer token (made by the service's Gate, as an older one would
	// have been) is refused on the protected routes.
	tok, err := o.s.Gate().CreateAccessToken(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	wantDPoPChallenge(t, "bearer on userinfo", o.do(t, "GET", "/userinfo", "", "", bearer(tok)...), "invalid_dpop_proof")
	r = o.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"`+testPassword+`"}`, "DPoP", o.proof(t, p, "POST", "/login", "", ""))
	wantStatus(t, "login with proof", r, 200)
	access, _ := r.body["access_token"].(string)
	wantStatus(t, "userinfo with proof", o.do(t, "GET", "/userinfo", "", "", append(dpopAuth(access), "DPoP", o.proof(t, p, "GET", "/userinfo", access, ""))...), 200)

	if _, err := New(Config{Users: o.data.Users, Revocations: o.data.Revocations, Keys: o.s.cfg.Keys, Algorithm: jwt.ES256,
		Issuer: "https://id.example.com", DPoPRequired: true}); err == nil {
		t.Error("New: DPoPRequired without DPoP accepted")
	}
}

// newTestServerLike starts a second server on the stores, keys and issuer
// of o's, as a second instance, and returns its URL.
func newTestServerLike(t *testing.T, o *oauthFixture, mutate func(*Config)) string {
	t.Helper()
	cfg := o.s.cfg
	cfg.DPoP, cfg.DPoPRequired = nil, false
	mutate(&cfg)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mux.Handle("/", s)
	return srv.URL
}

// doURL is fixture.do for any URL.
func doURL(t *testing.T, method, u, body, contentType string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw), sentAuth: req.Header.Get("Authorization") != ""}
	json.Unmarshal(raw, &r.body)
	return r
}

// downReplay is a replay store that cannot answer.
type downReplay struct{}

func (downReplay) Use(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("replay store down")
}

// TestDPoPReplayStoreDown: a replay store that cannot answer refuses the
// proof with 503, at the token endpoint, at /login and on /userinfo.
func TestDPoPReplayStoreDown(t *testing.T) {
	var o *oauthFixture
	o = newOAuthFixtureWith(t, func(cfg *Config) {
		cfg.LoginBurst = -1
		cfg.DPoP = newServerVerifier(t, downReplay{}, nil, func() time.Time { return o.now() })
	})
	p, _ := newTestProver(t, o.now)
	r := o.do(t, "POST", tokenPath, form, "grant_type=client_credentials", append(basic(o.secretID, o.secret), "DPoP", o.proof(t, p, "POST", tokenPath, "", ""))...)
	wantOAuthError(t, "token endpoint", r, 503, "temporarily_unavailable")
	r = o.do(t, "POST", "/login", "application/json", `{"username":"alice","password":"`+testPassword+`"}`, "DPoP", o.proof(t, p, "POST", "/login", "", ""))
	wantOAuthError(t, "login", r, 503, "temporarily_unavailable")
	tok, err := o.s.Gate().CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(p.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	r = o.do(t, "GET", "/userinfo", "", "", append(dpopAuth(tok), "DPoP", o.proof(t, p, "GET", "/userinfo", tok, ""))...)
	wantStatus(t, "userinfo", r, 503)
}
