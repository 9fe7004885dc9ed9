package config

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/transform"

	"github.com/robfig/cron/v3"
)

// ValidationError lists every problem found in a configuration. Each problem
// names the key it concerns (`tenants[1] (entra).jwt: ...`) and never contains
// a secret's value.
type ValidationError struct {
	Problems []string
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid config: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid config (%d problems):\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9-]+$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

const (
	maxNameLen = 63 // Guess: a DNS label's length; the name is a URL segment and a store key.
	// RFC 7518 3.2: "A key of the same size as the hash output (for instance,
	// 256 bits for "HS256") or larger MUST be used with this algorithm."
	minHS256SecretLen = 32
	maxJWKSFileSize   = 1 << 20
)

var logLevels = []string{"debug", "info", "warn", "error"}

// problems collects messages of the form "<key path>: <what is wrong>".
type problems []string

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

// Validate checks the whole configuration and returns a *ValidationError
// listing every problem, or nil. It expects secrets already resolved (Parse
// does that): a *_env key whose Secret is empty is reported as an unset
// variable. It reads jwks_file to check that it exists and holds a JWK Set.
func (c *Config) Validate() error {
	var p problems
	if err := checkListen(c.Listen); err != "" {
		p.add("listen", "%s", err)
	}
	if c.MetricsListen != "" {
		if err := checkListen(c.MetricsListen); err != "" {
			p.add("metrics_listen", "%s", err)
		} else if c.MetricsListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
			p.add("metrics_listen", "is the same address as listen; leave it out to serve /metrics on listen")
		}
	}
	if c.Database == "" {
		p.add("database", "required")
	}
	if c.PublicURL != "" {
		if err := checkURL(c.PublicURL); err != "" {
			p.add("public_url", "%s", err)
		}
	}
	if n := c.LookupCacheMiB; n < 0 || n > MaxLookupCacheMiB {
		p.add("lookup_cache_mib", "want 0 (off) to %d, got %d", MaxLookupCacheMiB, n)
	}
	if !slices.Contains(logLevels, c.LogLevel) {
		p.add("log_level", "want one of %s", strings.Join(logLevels, ", "))
	}
	if c.Trace.MaxBodyBytes < 0 || c.Trace.MaxBodyBytes > MaxTraceBodyBytes {
		p.add("trace.max_body_bytes", "want 0 (no bodies) to %d, got %d", MaxTraceBodyBytes, c.Trace.MaxBodyBytes)
	}
	if c.Admin.TokenEnv != "" {
		checkEnv(&p, "admin.token_env", c.Admin.TokenEnv, c.Admin.Token)
	}
	c.validateReconcile(&p)
	c.validateTargets(&p)
	c.validateTenants(&p)
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

func (c *Config) validateTargets(p *problems) {
	seen := map[string]string{}
	for i, t := range c.Targets {
		at := itemPath("targets", i, t.Name)
		checkName(p, at, "target", t.Name, seen)
		switch t.Kind {
		case KindJiraDC, KindCrowd:
		case "":
			p.add(at+".kind", "required (%s or %s)", KindJiraDC, KindCrowd)
		default:
			p.add(at+".kind", "unknown kind %q (want %s or %s)", t.Kind, KindJiraDC, KindCrowd)
		}
		if err := checkURL(t.URL); err != "" {
			p.add(at+".url", "%s", err)
		}
		basic := t.User != "" || t.PasswordEnv != ""
		switch {
		case t.Kind == KindCrowd && t.TokenEnv != "":
			p.add(at, "crowd authenticates as an application: set user (the application name) and password_env, not token_env")
		case t.TokenEnv != "" && basic:
			p.add(at, "set either token_env or user and password_env, not both")
		case t.TokenEnv == "" && !basic:
			if t.Kind == KindCrowd {
				p.add(at, "credentials required: set user (the application name) and password_env")
			} else {
				p.add(at, "credentials required: set token_env (a personal access token) or user and password_env")
			}
		case basic && t.User == "":
			p.add(at+".user", "required with password_env")
		case basic && t.PasswordEnv == "":
			p.add(at+".password_env", "required with user")
		}
		if t.TokenEnv != "" {
			checkEnv(p, at+".token_env", t.TokenEnv, t.Token)
		}
		if t.PasswordEnv != "" {
			checkEnv(p, at+".password_env", t.PasswordEnv, t.Password)
		}
		if !(t.RateLimit > 0) || math.IsInf(t.RateLimit, 0) {
			p.add(at+".rate_limit", "want a number of requests per second greater than 0")
		}
		if t.Burst < 1 {
			p.add(at+".burst", "want at least 1")
		}
		if t.Timeout <= 0 {
			p.add(at+".timeout", "want a positive duration such as 30s")
		}
	}
}

func (c *Config) validateTenants(p *problems) {
	if len(c.Tenants) == 0 {
		p.add("tenants", "at least one tenant is required")
	}
	names := presets.Names()
	seen := map[string]string{}
	// tokenOwner remembers which tenant and variable first used a token value
	// (by hash), so a token shared between tenants is caught without printing it.
	tokenOwner := map[[32]byte]string{}
	if !c.Admin.Token.IsZero() {
		tokenOwner[hashOf(c.Admin.Token)] = "admin.token_env " + c.Admin.TokenEnv
	}
	for i, t := range c.Tenants {
		at := itemPath("tenants", i, t.Name)
		checkName(p, at, "tenant", t.Name, seen)
		if !slices.Contains(names, t.Preset) {
			p.add(at+".preset", "unknown preset %q (valid: %s)", t.Preset, strings.Join(names, ", "))
		}
		if len(t.TokenEnvNames()) == 0 && t.JWT == nil {
			p.add(at, "no credential: set token_env, token_envs or jwt")
		}
		usedEnvs := map[string]bool{}
		for _, ref := range tokenRefs(at, t) {
			if usedEnvs[ref.env] {
				p.add(ref.key, "variable %s is listed twice", ref.env)
				continue
			}
			usedEnvs[ref.env] = true
			if !checkEnv(p, ref.key, ref.env, ref.token) {
				continue
			}
			h := hashOf(ref.token)
			if owner, dup := tokenOwner[h]; dup {
				p.add(ref.key, "the token in %s is also used by %s; every tenant needs its own token, distinct from the admin token", ref.env, owner)
				continue
			}
			tokenOwner[h] = fmt.Sprintf("%s (%s)", at, ref.env)
		}
		if t.JWT != nil {
			validateJWT(p, at+".jwt", t.JWT)
		}
		for k, name := range t.Targets {
			if !slices.ContainsFunc(c.Targets, func(tg Target) bool { return tg.Name == name }) {
				p.add(fmt.Sprintf("%s.targets[%d]", at, k), "unknown target %q", name)
			}
		}
		if v := t.Lifecycle.NeverLoggedIn; v != "" && v != "deactivate" && v != "keep" {
			p.add(at+".lifecycle.never_logged_in", "want deactivate or keep")
		}
		if t.Lifecycle.DeleteAfter < 0 || t.Lifecycle.InactiveAfter < 0 {
			p.add(at+".lifecycle", "durations must not be negative")
		}
		for key, v := range map[string]string{"on_deactivate": t.Lifecycle.OnDeactivate, "on_delete": t.Lifecycle.OnDelete} {
			if v != "" && v != "disable" && v != "delete" && v != "keep" {
				p.add(at+".lifecycle."+key, "want disable, delete or keep")
			}
		}
		c.Tenants[i].Compiled = nil
		if preset, err := presets.Get(t.Preset); err == nil {
			compiled, err := transform.Compile(transform.Merge(preset.Spec(), t.Spec()))
			var se *transform.SpecError
			switch {
			case errors.As(err, &se):
				for _, problem := range se.Problems {
					*p = append(*p, at+"."+problem)
				}
			case err != nil:
				p.add(at, "%v", err)
			default:
				c.Tenants[i].Compiled = compiled
			}
		}
	}
}

// tokenRef is one static token of a tenant: its key path, variable and value.
type tokenRef struct {
	key, env string
	token    Secret
}

func tokenRefs(at string, t Tenant) []tokenRef {
	var refs []tokenRef
	if t.TokenEnv != "" {
		refs = append(refs, tokenRef{key: at + ".token_env", env: t.TokenEnv})
	}
	for k, name := range t.TokenEnvs {
		refs = append(refs, tokenRef{key: fmt.Sprintf("%s.token_envs[%d]", at, k), env: name})
	}
	for k := range refs {
		if k < len(t.Tokens) {
			refs[k].token = t.Tokens[k]
		}
	}
	return refs
}

func hashOf(s Secret) [32]byte { return sha256.Sum256([]byte(s.Reveal())) }

func validateJWT(p *problems, at string, j *JWT) {
	if j.Issuer == "" {
		p.add(at+".issuer", "required (the iss claim the tokens carry)")
	}
	if len(j.Audience) == 0 {
		p.add(at+".audience", "required (a string or a list of strings)")
	}
	for k, a := range j.Audience {
		if a == "" {
			p.add(fmt.Sprintf("%s.audience[%d]", at, k), "empty")
		}
	}
	sources := 0
	for _, s := range []string{j.JWKSFile, j.JWKSURL, j.HS256SecretEnv} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		p.add(at, "set exactly one of jwks_file, jwks_url, hs256_secret_env")
	}
	if j.JWKSFile != "" {
		if err := checkJWKSFile(j.JWKSFile); err != "" {
			p.add(at+".jwks_file", "%s", err)
		}
	}
	if j.JWKSURL != "" {
		if err := checkURL(j.JWKSURL); err != "" {
			p.add(at+".jwks_url", "%s", err)
		}
	}
	if j.HS256SecretEnv != "" {
		if checkEnv(p, at+".hs256_secret_env", j.HS256SecretEnv, j.HS256Secret) && len(j.HS256Secret.Reveal()) < minHS256SecretLen {
			p.add(at+".hs256_secret_env", "the key in %s is shorter than %d bytes (RFC 7518 3.2 requires at least 256 bits for HS256)",
				j.HS256SecretEnv, minHS256SecretLen)
		}
	}
}

// itemPath names a list entry the way problems show it: tenants[1] (entra).
func itemPath(list string, i int, name string) string {
	s := list + "[" + strconv.Itoa(i) + "]"
	if name != "" {
		s += " (" + name + ")"
	}
	return s
}

func checkName(p *problems, at, what, name string, seen map[string]string) {
	switch {
	case name == "":
		p.add(at+".name", "required")
		return
	case !nameRE.MatchString(name) || len(name) > maxNameLen:
		p.add(at+".name", "want 1 to %d characters from a-z, 0-9 and -", maxNameLen)
	}
	if first, dup := seen[name]; dup {
		p.add(at+".name", "duplicate %s name %q (also %s)", what, name, first)
		return
	}
	seen[name] = at
}

// checkEnv reports a malformed variable name or an empty value and says
// whether the secret is usable. Messages name the variable, never its value.
func checkEnv(p *problems, at, name string, value Secret) bool {
	if !envNameRE.MatchString(name) {
		// The "name" may be a pasted secret: do not echo it.
		p.add(at, "want the name of an environment variable (letters, digits, _), not the secret itself")
		return false
	}
	if value.IsZero() {
		p.add(at, "environment variable %s is empty or unset", name)
		return false
	}
	return true
}

func checkListen(addr string) string {
	const want = "want host:port such as 127.0.0.1:8080"
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return want
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return want + " (port 0 to 65535)"
	}
	return ""
}

func checkURL(raw string) string {
	const want = "want an absolute http or https URL"
	if raw == "" {
		return "required (an absolute http or https URL)"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return want
	}
	if u.User != nil {
		return "must not embed credentials; use the *_env keys"
	}
	return ""
}

// checkJWKSFile reads the file the way the scim layer will and checks that it
// holds a JWK Set. Only regular files are opened, so a FIFO or device given
// by mistake cannot block or flood validation.
func checkJWKSFile(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Sprintf("cannot read %s: %v", path, unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Sprintf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot read %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJWKSFileSize+1))
	if err != nil {
		return fmt.Sprintf("cannot read %s: %v", path, unwrapPathError(err))
	}
	if len(data) > maxJWKSFileSize {
		return fmt.Sprintf("%s is larger than 1 MiB", path)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) == 0 {
		return fmt.Sprintf(`%s is not a JWK Set (want a JSON object with a non-empty "keys" list)`, path)
	}
	return ""
}

// unwrapPathError drops the *os.PathError wrapper, whose text repeats the path.
func unwrapPathError(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

func (c *Config) validateReconcile(p *problems) {
	if c.Webhook.SecretEnv != "" && checkEnv(p, "webhook.secret_env", c.Webhook.SecretEnv, c.Webhook.Secret) &&
		len(c.Webhook.Secret.Reveal()) < 16 {
		p.add("webhook.secret_env", "the secret in %s is shorter than 16 bytes", c.Webhook.SecretEnv)
	}
	if c.History.Retention < 0 {
		p.add("history.retention", "must not be negative")
	}
	r := c.Reconcile
	if r.Schedule != "" {
		if _, err := cron.ParseStandard(r.Schedule); err != nil {
			p.add("reconcile.schedule", "want a 5-field cron expression or @every <duration>: %v", err)
		}
	}
	if r.Orphans != "" && r.Orphans != "keep" && r.Orphans != "deactivate" {
		p.add("reconcile.orphans", "want keep or deactivate (orphans are never deleted)")
	}
	if r.MaxDeprovisionPercent < 0 || r.MaxDeprovisionPercent > 100 {
		p.add("reconcile.max_deprovision_percent", "want 0 to 100")
	}
}
