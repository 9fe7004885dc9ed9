//go:build !cgo

package sqlite

// uniqueViolation never matches without cgo: mattn/go-sqlite3 then builds a
// stub whose Open fails ("requires cgo"), so Open reports that instead and
// no statement ever runs. This file only keeps CGO_ENABLED=0 builds of the
// rest of the program compiling.
func uniqueViolation(error) (string, bool) { return "", false }
