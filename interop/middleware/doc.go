// Package middleware compares jwtgate's Gate.Required with other Go JWT
// middleware on one small JSON handler, in process and over loopback.
//
// In-process benchmarks (run from /work/main/interop):
//
//	go test -run '^$' -bench . -benchmem -count 6 ./middleware/ | tee /tmp/middleware-bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -row .name -col /impl /tmp/middleware-bench.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -row /impl -col .name /tmp/middleware-bench.txt
//
// Loopback load test (same servers, in package main of ../cmd/loadtest):
//
//	go run ./cmd/loadtest -rounds 5 -duration 3s | tee /tmp/loadtest.txt
//
// The benchmark names are BenchmarkMiddleware/impl=NAME, NAME being
//
//	unprotected           the JSON handler alone (net/http)
//	jwtgate               Gate.Required around it
//	jwtgate-pooled        a yardstick, not a middleware to copy: the core's
//	                      full verification into a pooled Token, only the
//	                      subject kept in the context (floors.go)
//	hmac-floor            a yardstick: the signature alone, pooled
//	                      pre-keyed HMAC, no claims read (floors.go)
//	golang-jwt            a plain golang-jwt/jwt/v5 middleware around it
//	jwtauth               go-chi/jwtauth/v5 Verifier + Authenticator around it
//	echo-jwt-unprotected  the same handler as an echo route, no middleware
//	echo-jwt              that echo route behind labstack/echo-jwt/v4
//
// and BenchmarkCoreVerify/impl=jwtgate, the JOSE core (jwt.Verifier)
// verifying the same token at the same clock: the reference for the
// Required target ("at most the core's verify time plus 0.6 us"), which
// reads as
//
//	Middleware/jwtgate - Middleware/unprotected <= CoreVerify/jwtgate + 0.6 us
//
// (the handler's own cost, 2 allocations, is in both Middleware rows);
// the second benchstat command above puts the two jwtgate figures side by
// side.
//
// Every request carries the same header, "Authorization: Bearer <token>",
// the token being HS256 (key ../testdata/hs256.key) over the JOSE core's
// benchmark payload, verified at the fixed clock 1767227400 by jwtgate,
// golang-jwt and jwtauth. echo-jwt's default parser reads the real clock,
// so it gets the same claims with exp moved to 4102444800 (2100-01-01),
// a token of the same length. Every protected handler reads the subject
// from the request context and answers {"sub":"user-12345"}; the
// unprotected ones answer the same bytes. Each setup is proved before any
// timing: 200 with that body for the valid token, 401 for a tampered
// signature, an expired token and a missing token.
//
// Each library is used as its documentation shows, in its cheaper form
// where there is a choice: jwtgate with defaults (it also checks the type
// claim); golang-jwt with a parser allowing HS256 only, WithIssuedAt, and
// typed jwt.RegisteredClaims; jwtauth's handler takes the jwt.Token from
// the context instead of calling FromContext, which also builds a map of
// every claim; echo-jwt with echojwt.JWT(key) defaults (MapClaims).
//
// In process, the net/http middleware wraps the handler directly (no
// router), and the echo rows go through echo's router, which is why echo
// has its own baseline. In the load test each server uses its usual
// router: http.ServeMux for bare net/http, jwtgate and golang-jwt, chi for
// jwtauth, echo's for the echo rows.
package middleware
