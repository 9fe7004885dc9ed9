//go:build cgo

package sqlite

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure, with SQLite's message (which names the columns).
func uniqueViolation(err error) (string, bool) {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return "", false
	}
	if se.ExtendedCode != sqlite3.ErrConstraintUnique && se.ExtendedCode != sqlite3.ErrConstraintPrimaryKey {
		return "", false
	}
	return se.Error(), true
}
