//go:build !unix

package sqlite

import "os"

// lockFile is a no-op where flock is not available: one serve per database
// file is then the operator's to ensure.
func lockFile(string) (*os.File, error) { return nil, nil }
