// Package depcheck holds the test that keeps the core packages (jwtgate,
// jwt and jwk) free of dependencies outside the Go standard library.
package depcheck
