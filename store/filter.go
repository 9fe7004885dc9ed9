package store

import "fmt"

// Filter is a boolean expression over a tenant's resources: a SCIM filter
// already parsed and checked against the schema by the scim layer. Backends
// translate it into their query language; none evaluates it row by row in
// memory.
type Filter interface{ isFilter() }

// Operator is a SCIM comparison operator, lower case.
type Operator string

// The SCIM comparison operators (RFC 7644 section 3.4.2.2).
const (
	OpEq Operator = "eq"
	OpNe Operator = "ne"
	OpCo Operator = "co"
	OpSw Operator = "sw"
	OpEw Operator = "ew"
	OpGt Operator = "gt"
	OpGe Operator = "ge"
	OpLt Operator = "lt"
	OpLe Operator = "le"
	OpPr Operator = "pr" // present: Value is nil
)

// AttrPath names an attribute with its canonical (schema) spelling.
//
// Special paths that backends map to columns rather than to Attributes:
//   - "id", "externalId", "userName" (users), "active" (users),
//     "displayName" (groups), "meta.created", "meta.lastModified"
//   - "members" / "members.value" (groups): the id of a member
//   - "groups" / "groups.value" (users): the id of a group the user is in
//
// Everything else is looked up in Attributes: Schema (an extension URN) picks
// the nested object, Name the attribute, Sub the sub-attribute.
type AttrPath struct {
	Schema string // "" for core attributes, else the extension schema URN
	Name   string // e.g. "userName", "name", "emails"
	Sub    string // e.g. "familyName", "value"; "" when none
	// MultiValued says Name is a multi-valued attribute (an array of values
	// or of complex values): a comparison matches if any element matches.
	MultiValued bool
}

// String renders the path in SCIM syntax, for error messages.
func (p AttrPath) String() string {
	s := p.Name
	if p.Schema != "" {
		s = p.Schema + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// Compare is `path op value`.
type Compare struct {
	Path AttrPath
	Op   Operator
	// Value is a string, bool, int64, float64 or time.Time (for
	// meta.created and meta.lastModified); nil for pr.
	Value any
	// CaseExact is false where the schema says caseExact=false (userName,
	// displayName, emails.value, most strings): strings then match
	// case-insensitively (Unicode simple folding).
	CaseExact bool
}

// And is `left and right`.
type And struct{ Left, Right Filter }

// Or is `left or right`.
type Or struct{ Left, Right Filter }

// Not is `not (inner)`.
type Not struct{ Inner Filter }

// ValuePath is `path[inner]`: some element of the multi-valued complex
// attribute Path (Sub is "") satisfies Inner, whose Compare paths name the
// element's sub-attributes in Path.Name with Schema and Name of Path and the
// sub-attribute in Sub. Entra's `emails[type eq "work"].value eq "x"` arrives
// as ValuePath{emails, And{type eq "work", value eq "x"}}.
type ValuePath struct {
	Path  AttrPath
	Inner Filter
}

func (Compare) isFilter()   {}
func (And) isFilter()       {}
func (Or) isFilter()        {}
func (Not) isFilter()       {}
func (ValuePath) isFilter() {}

// String renders the filter in SCIM syntax, for logs and errors.
func (c Compare) String() string {
	if c.Op == OpPr {
		return fmt.Sprintf("%s pr", c.Path)
	}
	return fmt.Sprintf("%s %s %#v", c.Path, c.Op, c.Value)
}
