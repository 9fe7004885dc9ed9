package atlassian

import (
	"fmt"
	"log/slog"
	"time"
)

// User is an account as any Atlassian user directory reports it.
type User struct {
	// Name is the username, the case-insensitive lookup key on Data Center products.
	Name string
	// Key is the product's immutable identifier (Jira "JIRAUSER10100", Crowd "524289:…").
	// It survives renames.
	Key         string
	DisplayName string
	Email       string
	Active      bool
	// LastLogin is nil when the product does not report it (Crowd, group member lists).
	LastLogin *time.Time
}

// Group is a group of the user directory.
type Group struct {
	Name string
}

// NewUser describes an account to create.
type NewUser struct {
	Name        string
	DisplayName string
	Email       string
	// Password is optional; Jira then generates one, the Crowd client generates a random one.
	Password string
	// ApplicationKeys (e.g. "jira-software") grant application access, which takes a licence seat.
	ApplicationKeys []string
	// Active is the account state after creation; the zero value creates a deactivated account.
	Active bool
}

// String redacts the password so that a NewUser printed with %v or %+v leaks nothing.
func (n NewUser) String() string {
	return fmt.Sprintf("NewUser{Name:%q DisplayName:%q Email:%q Password:%s ApplicationKeys:%q Active:%t}",
		n.Name, n.DisplayName, n.Email, redacted(n.Password), n.ApplicationKeys, n.Active)
}

// GoString redacts the password for %#v.
func (n NewUser) GoString() string { return n.String() }

// LogValue redacts the password when a NewUser is logged with slog.
func (n NewUser) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", n.Name),
		slog.String("display_name", n.DisplayName),
		slog.String("email", n.Email),
		slog.String("password", redacted(n.Password)),
		slog.Any("application_keys", n.ApplicationKeys),
		slog.Bool("active", n.Active),
	)
}

// UserUpdate lists the attributes to change; a nil field is left as it is.
type UserUpdate struct {
	DisplayName *string
	Email       *string
	Active      *bool
}

// IsZero reports whether the update changes nothing.
func (u UserUpdate) IsZero() bool {
	return u.DisplayName == nil && u.Email == nil && u.Active == nil
}

func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[REDACTED]"
}
