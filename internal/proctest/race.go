//go:build race

package proctest

// raceEnabled: the tests run with -race, so the programs they start are
// built with it too.
const raceEnabled = true
