// Package depcheck holds the tests that keep the core module
// (github.com/jwtgate/jwtgate) free of dependencies: its go.mod requires
// nothing, its packages and their tests import only the standard library
// and each other, a module that imports the core lists only jwtgate in
// go list -m all, and each SQL driver stays in its own module (the SQLite
// module compiles no pgx, the PostgreSQL module no SQLite).
package depcheck
