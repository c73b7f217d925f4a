//go:build race

package jwt

// raceEnabled: the race detector adds allocations, so allocation budgets
// are not checked.
const raceEnabled = true
