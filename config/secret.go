package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Secret is a credential resolved from the environment (a token, password or
// HMAC key). Every way of printing or encoding it (fmt with any verb, JSON,
// YAML, text, slog) yields "[redacted]"; only Reveal returns the value. It is
// never read from the config file itself. The zero value is the empty secret.
//
// The value sits behind a pointer, not in a string: when fmt prints a struct
// holding a Secret under a verb the struct does not support (%s on a float
// field, say), it stops calling methods, but still prints nested pointers as
// addresses, so the value cannot escape that way either.
type Secret struct {
	value *string
}

// NewSecret wraps a value; "" gives the zero Secret.
func NewSecret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	return Secret{value: &value}
}

// Reveal returns the secret's value, for the one place that needs it (an HTTP
// Authorization header, a JWT key).
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether the secret is empty (unset or an empty variable).
func (s Secret) IsZero() bool { return s.value == nil }

// Matches reports whether candidate equals the secret, in time that does not
// depend on where they differ nor on their lengths (both are hashed first). An
// empty secret matches nothing.
func (s Secret) Matches(candidate string) bool {
	if s.IsZero() {
		return false
	}
	a, b := sha256.Sum256([]byte(s.Reveal())), sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb, so %x, %q or %d cannot leak the
// value either.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON encodes the secret as "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes the secret as "[redacted]" (map keys, other encoders).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML encodes the secret as "[redacted]".
func (Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue makes slog print "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
