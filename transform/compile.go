package transform

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameLen is Jira's limit on usernames, display names, emails and group
// names (atlassian-api.md 1.3: "username required, ≤ 255 chars").
const maxNameLen = 255

// SpecError lists every problem found in a Spec, each naming its key path
// relative to the spec (mapping.username.rules[1].regex: ...), so a caller can
// prefix the block's own path.
type SpecError struct {
	Problems []string
}

// Error lists the problems, separated by "; ".
func (e *SpecError) Error() string {
	return "invalid mapping: " + strings.Join(e.Problems, "; ")
}

// Compiled is a Spec ready to apply: regular expressions, paths and templates
// parsed once. It is immutable and safe for concurrent use.
type Compiled struct {
	username, displayName, email *field
	require                      map[string]bool // lowercased IdP group names; empty = everyone
	requireNames                 []string
	include, exclude, managed    []*regexp.Regexp
	renames                      []renameRule
	defaults                     []string
	deleteRemoved                bool
}

type field struct {
	key     string // mapping.username
	sources []source
	rules   []rule
}

type source struct {
	label string // from[0] "userName"
	path  *attrPath
	tmpl  *tmpl
}

type rule struct {
	label string // rules[1] (regex)
	kind  string
	re    *regexp.Regexp
	repl  string
	tmpl  *tmpl
	def   string
}

type renameRule struct {
	re   *regexp.Regexp
	repl string
}

// Validate checks what s sets, without requiring anything: it suits a
// tenant's override block before it is merged with its preset. The problems
// name their key paths relative to s. Compile runs the same checks and also
// requires what a complete mapping needs.
func (s Spec) Validate() []string {
	var c Compiled
	return c.compile(s, false)
}

// Compile checks s, which must be complete (a preset merged with a tenant's
// override: username and email need at least one source), and returns it
// ready to apply. A non-nil error is a *SpecError listing every problem.
//
// Example:
//
//	c, err := transform.Compile(transform.Spec{Mapping: transform.Mapping{
//		Username: transform.Field{From: transform.Sources{"userName"},
//			Rules: []transform.Rule{{StripDomain: true}, {Lowercase: true}}},
//		Email: transform.Field{From: transform.Sources{`emails[type eq "work"].value`, "emails.value"}},
//	}})
func Compile(s Spec) (*Compiled, error) {
	c := &Compiled{}
	if problems := c.compile(s, true); len(problems) > 0 {
		return nil, &SpecError{Problems: problems}
	}
	return c, nil
}

func (c *Compiled) compile(s Spec, complete bool) []string {
	var p []string
	add := func(path, format string, args ...any) {
		p = append(p, path+": "+fmt.Sprintf(format, args...))
	}
	c.username = compileField("mapping.username", s.Mapping.Username, complete, add)
	c.displayName = compileField("mapping.display_name", s.Mapping.DisplayName, false, add)
	c.email = compileField("mapping.email", s.Mapping.Email, complete, add)

	c.require = map[string]bool{}
	for i, g := range s.Users.RequireGroups {
		if strings.TrimSpace(g) == "" {
			add(fmt.Sprintf("users.require_groups[%d]", i), "empty group name")
			continue
		}
		c.require[strings.ToLower(g)] = true
		c.requireNames = append(c.requireNames, g)
	}
	c.include = compilePatterns("groups.include", s.Groups.Include, add)
	c.exclude = compilePatterns("groups.exclude", s.Groups.Exclude, add)
	c.managed = compilePatterns("groups.managed", s.Groups.Managed, add)
	for i, r := range s.Groups.Rename {
		at := fmt.Sprintf("groups.rename[%d]", i)
		re := compilePattern(at+".regex", r.Regex, add)
		if r.Replace == nil {
			add(at+".replace", "required (the Atlassian name, may use $1 for capture groups)")
		} else if strings.TrimSpace(*r.Replace) == "" {
			add(at+".replace", "empty: a group needs a name")
		}
		if re != nil && r.Replace != nil {
			c.renames = append(c.renames, renameRule{re: re, repl: *r.Replace})
		}
	}
	for i, g := range s.Groups.Default {
		if reason := badGroupName(g); reason != "" {
			add(fmt.Sprintf("groups.default[%d]", i), "%s", reason)
			continue
		}
		c.defaults = append(c.defaults, g)
	}
	c.deleteRemoved = s.Groups.DeleteRemoved != nil && *s.Groups.DeleteRemoved
	return p
}

func compileField(key string, f Field, required bool, add func(string, string, ...any)) *field {
	out := &field{key: key}
	srcs := f.sources()
	if required && len(srcs) == 0 {
		add(key+".from", "required (an attribute path such as userName)")
	}
	for i, s := range srcs {
		at, label := fmt.Sprintf("%s.from[%d]", key, i), fmt.Sprintf("from[%d] %q", i, s)
		if i >= len(f.From) {
			j := i - len(f.From)
			at, label = fmt.Sprintf("%s.fallback[%d]", key, j), fmt.Sprintf("fallback[%d] %q", j, s)
		}
		src := source{label: label}
		if strings.Contains(s, "{{") {
			t, err := compileTemplate(s)
			if err != nil {
				add(at, "template: %v", err)
				continue
			}
			src.tmpl = t
		} else {
			ap, err := parsePath(s)
			if err != nil {
				add(at, "path %q: %v", s, err)
				continue
			}
			src.path = ap
		}
		out.sources = append(out.sources, src)
	}
	for i, r := range f.Rules {
		at := fmt.Sprintf("%s.rules[%d]", key, i)
		kinds := r.kinds()
		switch {
		case len(kinds) == 0 && r.Replace != nil:
			add(at+".regex", "required with replace")
			continue
		case len(kinds) == 0:
			add(at, "no rule kind set (want exactly one of regex, lowercase, uppercase, trim, strip_domain, template, default; a flag set to false is not set)")
			continue
		case len(kinds) > 1:
			add(at, "%s set together; a rule does one thing, so write one rule per kind", strings.Join(kinds, " and "))
			continue
		}
		ru := rule{kind: kinds[0], label: fmt.Sprintf("rules[%d] (%s)", i, kinds[0])}
		if r.Replace != nil && ru.kind != "regex" {
			add(at+".replace", "only goes with regex")
			continue
		}
		switch ru.kind {
		case "regex":
			re, err := regexp.Compile(r.Regex)
			if err != nil {
				add(at+".regex", "%v", err)
				continue
			}
			if r.Replace == nil {
				add(at+".replace", "required with regex (write replace: '' to delete the matches)")
				continue
			}
			ru.re, ru.repl = re, *r.Replace
		case "template":
			t, err := compileTemplate(r.Template)
			if err != nil {
				add(at+".template", "%v", err)
				continue
			}
			ru.tmpl = t
		case "default":
			ru.def = r.Default
		}
		out.rules = append(out.rules, ru)
	}
	return out
}

func compilePatterns(key string, pats []string, add func(string, string, ...any)) []*regexp.Regexp {
	var out []*regexp.Regexp
	for i, pat := range pats {
		if re := compilePattern(fmt.Sprintf("%s[%d]", key, i), pat, add); re != nil {
			out = append(out, re)
		}
	}
	return out
}

// compilePattern compiles a group pattern case-insensitively.
func compilePattern(at, pat string, add func(string, string, ...any)) *regexp.Regexp {
	if pat == "" {
		add(at, "empty pattern (it would match every group)")
		return nil
	}
	re, err := regexp.Compile("(?i)" + pat)
	if err != nil {
		// Report the error against the pattern as written.
		if _, err2 := regexp.Compile(pat); err2 != nil {
			err = err2
		}
		add(at, "%v", err)
		return nil
	}
	return re
}

// Account is the Atlassian account computed for one SCIM user.
type Account struct {
	// Username is the Atlassian username (Jira: name), as the rules left it.
	Username string
	// DisplayName is the full name; the username when nothing else is known.
	DisplayName string
	// Email is the email address.
	Email string
	// Active follows the SCIM active attribute (true when absent).
	Active bool
}

// ErrNoUsername is wrapped by the error Account returns when every username
// source is empty: the user cannot be provisioned, which Desired reports as a
// skip rather than a failure.
var ErrNoUsername = errors.New("no username")

// FieldError is a failure to compute one account field for one user. Its
// message names the field, the step (source or rule) and the value that went
// into it.
type FieldError struct {
	// Field is the key path of the field, such as mapping.username.
	Field string
	// Step names the source or rule that failed (from[0] "userName",
	// rules[1] (template)); empty when the final value was refused.
	Step string
	// Input is the value a rule received, or the refused final value; empty
	// for a failed source, whose input is the whole user.
	Input string
	// Chain describes how the final value was produced, for refusals.
	Chain string
	// Err says what is wrong.
	Err error
}

// Error names field, step and input.
func (e *FieldError) Error() string {
	if strings.HasPrefix(e.Step, "rules[") {
		return fmt.Sprintf("%s.%s: input %s: %v", e.Field, e.Step, quote(e.Input), e.Err)
	}
	if e.Step != "" { // a source: it has no input but the user
		return fmt.Sprintf("%s.%s: %v", e.Field, e.Step, e.Err)
	}
	return fmt.Sprintf("%s: %s (%s): %v", e.Field, quote(e.Input), e.Chain, e.Err)
}

// Unwrap returns Err.
func (e *FieldError) Unwrap() error { return e.Err }

// quote renders a value for a message: quoted (control characters escaped)
// and cut to a readable length.
func quote(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) > max {
		return strconv.Quote(string([]rune(s)[:max])) + "..."
	}
	return strconv.Quote(s)
}

// Account computes the account of a user as stored (canonical attribute names,
// extensions under their URN keys). The error joins one *FieldError per field
// that failed; it wraps ErrNoUsername when no username source had a value.
//
// Example:
//
//	acct, err := c.Account(map[string]any{
//		"userName": "Jane.Doe@example.com",
//		"emails":   []any{map[string]any{"value": "jane@example.com", "primary": true}},
//	})
//	// acct.Username == "jane.doe" with rules [{strip_domain: true}, {lowercase: true}]
func (c *Compiled) Account(user map[string]any) (Account, error) {
	var errs []error
	var a Account
	var err error
	if a.Username, err = c.username.eval(user, checkUsername); err != nil {
		errs = append(errs, err)
	}
	if a.Email, err = c.email.eval(user, checkEmail); err != nil {
		errs = append(errs, err)
	}
	if a.DisplayName, err = c.displayName.eval(user, checkDisplayName); err != nil {
		errs = append(errs, err)
	}
	if a.DisplayName == "" && len(errs) == 0 {
		// Guess: Jira requires a display name; the username is a better one
		// than a failed provisioning when the IdP sends no name at all.
		a.DisplayName = a.Username
	}
	if a.Active, err = active(user); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Account{}, errors.Join(errs...)
	}
	return a, nil
}

// active reads the SCIM active attribute: a boolean, or the strings "True" and
// "False" Entra sends without aadOptscim062020 (idp-scim-clients.md 3.6).
func active(user map[string]any) (bool, error) {
	v, ok := getKey(user, "active")
	if !ok || v == nil {
		// Guess: SCIM makes active optional; a user the IdP pushed without it
		// is one it wants provisioned, and a missing attribute must not
		// deactivate anyone.
		return true, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(x))); err == nil {
			return b, nil
		}
	}
	s, _ := scalarString(v)
	return false, &FieldError{Field: "active", Input: s, Chain: "SCIM attribute active",
		Err: fmt.Errorf("want true or false, got a %T", v)}
}

// eval computes the field: first non-blank source, rules, final check.
func (f *field) eval(user map[string]any, check func(string) string) (string, error) {
	var v, from string
	for _, s := range f.sources {
		var err error
		if s.path != nil {
			v, err = s.path.value(user)
		} else {
			v, err = s.tmpl.exec(user)
		}
		if err != nil {
			return "", &FieldError{Field: f.key, Step: s.label, Err: err}
		}
		if strings.TrimSpace(v) != "" {
			from = s.label
			break
		}
		v = ""
	}
	if from == "" && len(f.rules) == 0 {
		if f.key == "mapping.username" {
			return "", &FieldError{Field: f.key, Chain: "sources " + f.sourceList(), Err: ErrNoUsername}
		}
		if f.key == "mapping.email" {
			return "", &FieldError{Field: f.key, Chain: "sources " + f.sourceList(), Err: errors.New("empty: Jira requires an email address")}
		}
		return "", nil
	}
	if from == "" && f.key == "mapping.username" {
		// Rules may supply a value (default, template), but a user without any
		// username attribute is still one we cannot identify.
		return "", &FieldError{Field: f.key, Chain: "sources " + f.sourceList(), Err: ErrNoUsername}
	}
	chain := []string{from}
	if from == "" {
		chain = []string{"no source had a value"}
	}
	for _, r := range f.rules {
		out, err := r.apply(v, user)
		if err != nil {
			return "", &FieldError{Field: f.key, Step: r.label, Input: v, Err: err}
		}
		v = out
		chain = append(chain, r.label)
	}
	if reason := check(v); reason != "" {
		return "", &FieldError{Field: f.key, Input: v, Chain: strings.Join(chain, " -> "), Err: errors.New(reason)}
	}
	return v, nil
}

func (f *field) sourceList() string {
	var labels []string
	for _, s := range f.sources {
		labels = append(labels, s.label)
	}
	if len(labels) == 0 {
		return "(none)"
	}
	return strings.Join(labels, ", ")
}

func (r rule) apply(v string, user map[string]any) (string, error) {
	switch r.kind {
	case "regex":
		return r.re.ReplaceAllString(v, r.repl), nil
	case "lowercase":
		return strings.ToLower(v), nil
	case "uppercase":
		return strings.ToUpper(v), nil
	case "trim":
		return strings.TrimSpace(v), nil
	case "strip_domain":
		return stripDomain(v), nil
	case "default":
		if v == "" {
			return r.def, nil
		}
		return v, nil
	case "template":
		out, err := r.tmpl.exec(user)
		if err != nil {
			return "", err
		}
		if out == "" {
			return "", errors.New("template yielded an empty value")
		}
		return out, nil
	}
	return "", fmt.Errorf("unknown rule kind %q", r.kind) // unreachable: compile knows every kind
}

// stripDomain drops the last "@" and what follows: a quoted local part may
// itself hold an "@".
func stripDomain(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i]
	}
	return s
}

// checkUsername refuses what Jira cannot take as a username
// (atlassian-api.md 1.3: required, ≤ 255 chars, no <, > or &).
func checkUsername(s string) string {
	switch {
	case s == "":
		return "empty after the rules: not a valid Jira username"
	case utf8.RuneCountInString(s) > maxNameLen:
		return fmt.Sprintf("longer than %d characters: not a valid Jira username", maxNameLen)
	case !utf8.ValidString(s):
		return "not valid UTF-8: not a valid Jira username"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "contains a control character: not a valid Jira username"
	case strings.ContainsAny(s, "<>&"):
		return "contains <, > or &: not a valid Jira username"
	case strings.TrimSpace(s) != s:
		// Guess: Jira trims or refuses surrounding spaces; either way the
		// account would not match what we store, so refuse here.
		return "has leading or trailing spaces (add a {trim: true} rule): not a valid Jira username"
	}
	return ""
}

func checkDisplayName(s string) string {
	switch {
	case utf8.RuneCountInString(s) > maxNameLen:
		return fmt.Sprintf("longer than %d characters, the most Jira takes for a display name", maxNameLen)
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "contains a control character"
	}
	return ""
}

// checkEmail is a plausibility check, not RFC 5322: Jira validates the format
// itself (atlassian-api.md 1.3, text unverified), and a clear error here beats
// a 400 there.
func checkEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	switch {
	case s == "":
		return "empty after the rules: Jira requires an email address"
	case utf8.RuneCountInString(s) > maxNameLen:
		return fmt.Sprintf("longer than %d characters, the most Jira takes for an email address", maxNameLen)
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return "contains white space or a control character: not an email address"
	case at <= 0 || at == len(s)-1:
		return "not an email address (want local@domain)"
	}
	return ""
}

// badGroupName says why s cannot be an Atlassian group name, or "".
func badGroupName(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "empty group name"
	case utf8.RuneCountInString(s) > maxNameLen:
		return fmt.Sprintf("group name longer than %d characters", maxNameLen)
	case !utf8.ValidString(s):
		return "group name is not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "group name contains a control character"
	}
	return ""
}
