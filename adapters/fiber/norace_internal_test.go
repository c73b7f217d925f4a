//go:build !race

package fibergate

const raceEnabled = false
