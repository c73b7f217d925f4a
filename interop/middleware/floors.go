package middleware

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strings"
	"sync"

	"github.com/jwtgate/jwtgate/jwt"
)

// The two servers below are yardsticks for Gate.Required, not
// middleware to copy: they show how much of the unprotected server's
// rate a verification could keep on this machine at best.

type pooledSubKey struct{}

// jwtgatePooled is the least a jwtgate verification can cost in a server:
// the core's Verifier (every check of Gate.Required's verification:
// structure, header, algorithm, signature, registered claims at the fixed
// clock) run by jwt.Verifier.VerifyIntoBuffer into a Token and payload
// buffer taken from a sync.Pool and given back before the handler runs;
// only a copy of the subject goes into the request's context. It
// allocates that copy and the context, where Required allocates the token
// the handler may keep.
func jwtgatePooled(f *Fixture) (http.Handler, error) {
	key, err := jwt.NewHMACKey(f.Key, jwt.HS256)
	if err != nil {
		return nil, err
	}
	v, err := jwt.NewVerifier(key, jwt.VerifierOptions{Algorithms: []jwt.Algorithm{jwt.HS256}, Clock: Now})
	if err != nil {
		return nil, err
	}
	type room struct {
		t   jwt.Token
		buf [1 << 10]byte
	}
	pool := sync.Pool{New: func() any { return new(room) }}
	subject := func(r *http.Request) (string, bool) {
		auth := r.Header.Get("Authorization")
		if len(auth) <= 7 || !strings.EqualFold(auth[:7], "Bearer ") {
			return "", false
		}
		rm := pool.Get().(*room)
		defer pool.Put(rm)
		if err := v.VerifyIntoBuffer(r.Context(), auth[7:], &rm.t, rm.buf[:]); err != nil {
			return "", false
		}
		return strings.Clone(rm.t.Claims.Subject), true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub, ok := subject(r)
		if !ok {
			unauthorized(w)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), pooledSubKey{}, sub))
		s, _ := r.Context().Value(pooledSubKey{}).(string)
		writeSub(w, s)
	}), nil
}

// hmacFloor checks the HMAC of a bearer token and nothing else: pre-keyed
// HMAC-SHA256 states from a sync.Pool, the signature compared in constant
// time, no header, no claims, nothing put in the context. No verifier
// can cost less; it is not one (it accepts an expired token).
func hmacFloor(f *Fixture) http.Handler {
	type state struct {
		mac hash.Hash
		buf []byte // the signing input and the signature's text, copied
	}
	states := sync.Pool{New: func() any { return &state{mac: hmac.New(sha256.New, f.Key)} }}
	enc := base64.RawURLEncoding.Strict()
	valid := func(auth string) bool {
		if len(auth) <= 7 || !strings.EqualFold(auth[:7], "Bearer ") {
			return false
		}
		tok := auth[7:]
		i := strings.LastIndexByte(tok, '.')
		if i < 0 || enc.DecodedLen(len(tok)-i-1) != sha256.Size {
			return false
		}
		st := states.Get().(*state)
		defer states.Put(st)
		st.buf = append(st.buf[:0], tok...)
		var sig, sum [sha256.Size]byte
		if _, err := enc.Decode(sig[:], st.buf[i+1:]); err != nil {
			return false
		}
		st.mac.Reset()
		st.mac.Write(st.buf[:i])
		return hmac.Equal(st.mac.Sum(sum[:0]), sig[:])
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !valid(r.Header.Get("Authorization")) {
			unauthorized(w)
			return
		}
		writeSub(w, Subject)
	})
}
