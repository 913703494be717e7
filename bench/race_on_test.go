//go:build race

package bench

// raceEnabled reports that the tests run under the race detector, whose
// instrumentation makes frames larger (see chainStackBudgetRace).
const raceEnabled = true
