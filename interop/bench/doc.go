// Package bench holds side-by-side benchmarks of jwtgate, other Go JWT
// libraries and the bare standard-library crypto ("floor"). Everything is in
// the test files; this file only documents the package.
//
// The benchmark names pivot with benchstat:
//
//	go test -run '^$' -bench . -benchmem -count 10 ./bench/ | tee new.txt
//	benchstat -row .name -col /impl new.txt
//
// Names are BenchmarkVerify/alg=ALG/impl=IMPL and BenchmarkSign/alg=ALG/impl=IMPL.
//
// Every implementation verifies the same token for a given algorithm (made
// once with the standard library over the fixed payload) at the same fixed
// clock, checking the signature and the exp, nbf and iat claims, and decodes
// the claims into its usual claims type. Before any timing, each benchmark
// proves that its operation succeeds, and each verifier proves that it
// rejects a tampered signature and an expired, a not-yet-valid and a
// future-issued token, so that a broken setup cannot report a fast number.
package bench
