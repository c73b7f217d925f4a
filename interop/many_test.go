package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// manyCount is how many tokens TestManySignatures signs per algorithm and
// direction. Randomized signatures (ECDSA, RSA-PSS) then cover the rarer
// encodings: r or s with leading zero octets, a P-521 coordinate whose
// first octet is zero, a high bit that needs DER padding.
func manyCount(t *testing.T) int {
	if s := os.Getenv("JWTGATE_INTEROP_MANY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("JWTGATE_INTEROP_MANY=%q: want a positive integer", s)
		}
		return n
	}
	if testing.Short() {
		return 8
	}
	return 32
}

// TestManySignatures signs many tokens with distinct claims both ways
// between jwtgate and each implementation, and checks every one verifies.
func TestManySignatures(t *testing.T) {
	n := manyCount(t)
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			im.require(t)
			for _, alg := range Algorithms() {
				t.Run(alg, func(t *testing.T) {
					t.Parallel()
					k := testKey(t, alg)
					claims := make([]json.RawMessage, n)
					sreqs := make([]signReq, n)
					for i := range claims {
						claims[i] = json.RawMessage(claimsJSON(set("jti", fmt.Sprintf("many-%d", i))))
						sreqs[i] = signReq{key: k, alg: alg, claims: claims[i]}
					}
					// The implementation signs, jwtgate verifies.
					v := jwtgateVerifier(t, k)
					for i, token := range im.sign(t, sreqs) {
						if _, err := v.Verify(context.Background(), token); err != nil {
							t.Errorf("token %d: jwtgate refused %s's token: %v\ntoken: %s", i, im.name, err, token)
						}
					}
					// jwtgate signs, the implementation verifies.
					c := interopCase{name: "many"}
					vreqs := make([]verifyReq, n)
					for i := range vreqs {
						c.claims = string(claims[i])
						vreqs[i] = verifyReq{key: k, alg: alg, token: signJwtgate(t, c, alg), audience: "api"}
					}
					for i, res := range im.verify(t, vreqs) {
						if res.err != nil {
							t.Errorf("token %d: %s refused jwtgate's token: %v\ntoken: %s", i, im.name, res.err, vreqs[i].token)
						}
					}
				})
			}
		})
	}
}
