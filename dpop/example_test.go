package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/jwt"
)

// usedIDs is a ReplayStore for one process; a service with several
// instances uses a shared revoke store (SQLite, PostgreSQL or Redis).
type usedIDs struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

func (u *usedIDs) Use(_ context.Context, id string, until time.Time) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.ids[id]; ok {
		return false, nil
	}
	u.ids[id] = until
	return true, nil
}

// A resource server that takes only DPoP-bound tokens, and a client that
// proves possession of its key with dpop.Transport.
func Example() {
	verifier, err := dpop.NewVerifier(dpop.Options{Replay: &usedIDs{ids: map[string]time.Time{}}})
	if err != nil {
		panic(err)
	}
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, err := jwtgate.New(jwtgate.Config{SigningKey: key, DPoP: verifier})
	if err != nil {
		panic(err)
	}
	api := httptest.NewServer(gate.Protect(jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, _ := jwtgate.TokenFrom(r.Context())
			fmt.Fprintf(w, "hello %s", t.Identity)
		})))
	defer api.Close()

	// The client's key, and a token bound to it (an authorization server
	// binds it to the key of the proof sent with the token request).
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	prover, _ := dpop.NewProver(clientKey, jwt.ES256, nil)
	token, _ := gate.CreateAccessToken(context.Background(), "alice", jwtgate.BindTo(prover.Thumbprint()))

	client := &http.Client{Transport: &dpop.Transport{
		Prover: prover,
		Token:  func(context.Context) (string, error) { return token, nil },
	}}
	resp, err := client.Get(api.URL + "/hello")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	// The same token as a bearer token is refused.
	req, _ := http.NewRequest("GET", api.URL+"/hello", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 hello alice
	// 401 DPoP algs="ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512", error="invalid_token", error_description="Token is bound to a DPoP key: send it as 'Authorization: DPoP <token>' with a DPoP proof"
}
