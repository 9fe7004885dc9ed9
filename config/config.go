// Package config reads scimbridge's YAML configuration: the types, their
// defaults, strict decoding (an unknown key is an error with its line), and
// Validate, which reports every problem at once.
//
// Secrets never appear in the file. A key ending in _env names the environment
// variable that holds the secret; Parse resolves it into a Secret field that
// prints as "[redacted]" everywhere.
package config

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/internal/yamlstrict"
	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/transform"
)

// Defaults applied when a key is absent.
const (
	DefaultListen    = "127.0.0.1:8080"
	DefaultDatabase  = "./scimbridge.db"
	DefaultLogLevel  = "info"
	DefaultPreset    = "generic" // Guess: a tenant without preset: is a plain RFC 7644 client.
	DefaultRateLimit = 10        // requests per second per target
	// Guess: a burst of 1 keeps calls evenly spaced at the target's rate, so we
	// never exceed a server-side limiter that has no burst allowance of its own.
	DefaultBurst   = 1
	DefaultTimeout = 30 * time.Second
)

// Config is the whole configuration file.
type Config struct {
	// Listen is the host:port the HTTP server binds (SCIM, admin API, metrics).
	Listen string `yaml:"listen" json:"listen"`
	// Database is the SQLite file; a relative path is resolved against the
	// config file's directory.
	Database string `yaml:"database" json:"database"`
	// PublicURL is the URL IdPs reach the bridge at (scheme, host, optional
	// path prefix), used for SCIM meta.location and $ref values; empty means
	// http://{listen}.
	PublicURL string `yaml:"public_url" json:"public_url,omitempty"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" json:"log_level"`
	// Admin configures the admin REST API.
	Admin Admin `yaml:"admin" json:"admin"`
	// Targets are the Atlassian products the bridge provisions into.
	Targets []Target `yaml:"targets" json:"targets"`
	// Tenants are the IdPs that push SCIM to the bridge, one SCIM base URL
	// (/scim/v2/{name}) each.
	Tenants []Tenant `yaml:"tenants" json:"tenants"`
	// LookupCacheMiB bounds the memory that keeps the users found by
	// `userName eq` lookups, so that repeated lookups skip SQLite (about
	// 700 users per MiB, each with its rendered JSON); 0 turns the cache
	// off.
	LookupCacheMiB int `yaml:"lookup_cache_mib" json:"lookup_cache_mib"`
	// MetricsListen, when set, is a host:port of its own for /metrics (so
	// the SCIM listener need not expose it); empty serves /metrics on Listen.
	MetricsListen string `yaml:"metrics_listen" json:"metrics_listen,omitempty"`
	// Webhook configures POST /api/v1/webhooks/reconcile.
	Webhook Webhook `yaml:"webhook" json:"webhook"`
	// Reconcile configures the periodic drift repair.
	Reconcile Reconcile `yaml:"reconcile" json:"reconcile"`
	// History configures the run history.
	History History `yaml:"history" json:"history"`
	// Trace logs every HTTP request in detail, for diagnosing an IdP.
	Trace Trace `yaml:"trace" json:"trace"`
}

// Trace configures the request trace: one log line per HTTP request with
// its method, path, query, headers, status, latency and bodies, every
// secret (Authorization, passwords, tokens) redacted. Off by default: even
// redacted, the bodies hold personal data.
type Trace struct {
	// Enabled switches the trace on.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// MaxBodyBytes cuts each logged body (after redaction); 0 logs no
	// bodies. Default 4096, at most MaxTraceBodyBytes.
	MaxBodyBytes int `yaml:"max_body_bytes" json:"max_body_bytes"`
}

// Trace body limits.
const (
	DefaultTraceBodyBytes = 4096
	MaxTraceBodyBytes     = 1 << 20
)

// History configures how long runs and their results are kept.
type History struct {
	// Retention is how long finished runs are kept; default 2160h (90 days).
	Retention Duration `yaml:"retention" json:"retention"`
}

// DefaultRetention is how long runs are kept when history.retention is absent.
const DefaultRetention = 90 * 24 * time.Hour

// Webhook holds the secret that signs reconcile webhooks.
type Webhook struct {
	// SecretEnv names the variable holding the HMAC-SHA256 key; absent
	// disables the webhook.
	SecretEnv string `yaml:"secret_env" json:"secret_env,omitempty"`
	// Secret is resolved from SecretEnv by Parse.
	Secret Secret `yaml:"-" json:"secret,omitzero"`
}

// Reconcile configures full reconciles (drift repair).
type Reconcile struct {
	// Schedule is a standard 5-field cron expression or @every 10m; empty
	// means no schedule (API and webhook only).
	Schedule string `yaml:"schedule" json:"schedule,omitempty"`
	// Orphans is keep (default) or deactivate: Atlassian accounts no tenant owns.
	Orphans string `yaml:"orphans" json:"orphans,omitempty"`
	// MaxDeprovisionPercent is the safety brake (default 10).
	MaxDeprovisionPercent int `yaml:"max_deprovision_percent" json:"max_deprovision_percent,omitempty"`
}

// Admin configures the admin REST API.
type Admin struct {
	// TokenEnv names the variable holding the admin API's bearer token.
	// Guess: when it is absent the admin API is disabled (cmd decides); an
	// admin API without a token would be open to anyone who can reach it.
	TokenEnv string `yaml:"token_env" json:"token_env,omitempty"`
	// Token is resolved from TokenEnv by Parse.
	Token Secret `yaml:"-" json:"token,omitzero"`
}

// TargetKind is the Atlassian product and deployment a target talks to.
type TargetKind string

// Target kinds.
const (
	KindJiraDC TargetKind = "jira-dc" // Jira Data Center REST v2
	KindCrowd  TargetKind = "crowd"   // Crowd REST, basic auth as an application
)

// Target is one Atlassian instance.
type Target struct {
	// Name identifies the target in tenants' target lists, links and results.
	Name string `yaml:"name" json:"name"`
	// Kind selects the client.
	Kind TargetKind `yaml:"kind" json:"kind"`
	// URL is the base URL of the instance (http or https).
	URL string `yaml:"url" json:"url"`
	// TokenEnv names the variable holding a personal access token, sent as
	// Bearer (Jira). Exclusive with User and PasswordEnv.
	TokenEnv string `yaml:"token_env" json:"token_env,omitempty"`
	// User is the basic-auth user name; for Crowd, the application name.
	User string `yaml:"user" json:"user,omitempty"`
	// PasswordEnv names the variable holding User's password (Crowd: the
	// application password).
	PasswordEnv string `yaml:"password_env" json:"password_env,omitempty"`
	// RateLimit caps requests per second to this target.
	RateLimit float64 `yaml:"rate_limit" json:"rate_limit"`
	// Burst is how many requests may go at once before RateLimit applies.
	Burst int `yaml:"burst" json:"burst"`
	// Timeout bounds one HTTP request to the target.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// ApplicationKeys are granted to users the bridge creates (Jira:
	// default [jira-software]; Crowd: none).
	ApplicationKeys []string `yaml:"application_keys" json:"application_keys,omitempty"`
	// Token is resolved from TokenEnv by Parse.
	Token Secret `yaml:"-" json:"token,omitzero"`
	// Password is resolved from PasswordEnv by Parse.
	Password Secret `yaml:"-" json:"password,omitzero"`
}

// targetFields is Target without its UnmarshalYAML method.
type targetFields Target

// UnmarshalYAML sets the defaults before decoding, so an explicit
// `rate_limit: 0` stays 0 (and is reported) rather than becoming the default.
// It uses the function form because that one keeps the decoder's strictness
// about unknown keys; yaml.Node.Decode would not.
func (t *Target) UnmarshalYAML(unmarshal func(any) error) error {
	*t = Target{RateLimit: DefaultRateLimit, Burst: DefaultBurst, Timeout: Duration(DefaultTimeout)}
	// A local type named Target (without the method, so no recursion) makes
	// the decoder's messages say config.Target.
	type Target targetFields
	return unmarshal((*Target)(t))
}

// Tenant is one IdP connection: a SCIM base URL /scim/v2/{Name} with its own
// credentials and store partition.
type Tenant struct {
	// Name is the URL segment and store partition: [a-z0-9-]+, unique.
	Name string `yaml:"name" json:"name"`
	// Preset is one of presets.Names(); default "generic".
	Preset string `yaml:"preset" json:"preset"`
	// TokenEnv names the variable holding the tenant's static bearer token.
	TokenEnv string `yaml:"token_env" json:"token_env,omitempty"`
	// TokenEnvs names more variables whose tokens are accepted too, so a
	// token can be rotated without downtime: add the new one here, switch
	// the IdP over, then drop the old one.
	TokenEnvs []string `yaml:"token_envs" json:"token_envs,omitempty"`
	// JWT accepts signed JWT bearer tokens besides (or instead of) static ones.
	JWT *JWT `yaml:"jwt" json:"jwt,omitempty"`
	// Targets names the targets this tenant provisions into; empty means every target.
	Targets []string `yaml:"targets" json:"targets,omitempty"`
	// Priority settles two tenants producing the same username on a target:
	// the higher number wins.
	Priority int `yaml:"priority" json:"priority"`
	// Mapping, Users and Groups override the preset's, piece by piece
	// (transform.Merge): a key set here replaces the preset's, an absent key
	// keeps it, an explicit empty list clears it.
	Mapping transform.Mapping `yaml:"mapping" json:"mapping"`
	Users   transform.Users   `yaml:"users" json:"users"`
	Groups  transform.Groups  `yaml:"groups" json:"groups"`
	// Lifecycle says what happens in Atlassian when the IdP deactivates or deletes a user.
	Lifecycle Lifecycle `yaml:"lifecycle" json:"lifecycle"`
	// Quirks override the preset's protocol quirks one by one; an absent
	// key keeps the preset's.
	Quirks Quirks `yaml:"quirks" json:"quirks"`
	// Compiled is the preset merged with this tenant's overrides, compiled
	// by Validate.
	Compiled *transform.Compiled `yaml:"-" json:"-"`
	// Tokens are resolved by Parse from TokenEnvNames(), index for index.
	Tokens []Secret `yaml:"-" json:"tokens,omitempty"`
}

// Quirks are a tenant's overrides of its preset's protocol quirks
// (presets.Quirks); nil keeps the preset's value.
type Quirks struct {
	// PatchNoContent answers a successful PATCH of a Group with 204 and no
	// body instead of 200 and the group with every member.
	PatchNoContent *bool `yaml:"patch_no_content" json:"patch_no_content,omitempty"`
	// AlwaysReturnName puts name.givenName/familyName into every User response.
	AlwaysReturnName *bool `yaml:"always_return_name" json:"always_return_name,omitempty"`
}

// Apply returns q's overrides laid over the preset's quirks.
func (q Quirks) Apply(p presets.Quirks) presets.Quirks {
	if q.PatchNoContent != nil {
		p.PatchNoContent = *q.PatchNoContent
	}
	if q.AlwaysReturnName != nil {
		p.AlwaysReturnName = *q.AlwaysReturnName
	}
	return p
}

// TokenEnvNames returns TokenEnv (when set) followed by TokenEnvs: the
// variables Tokens were resolved from, in the same order.
func (t Tenant) TokenEnvNames() []string {
	var names []string
	if t.TokenEnv != "" {
		names = append(names, t.TokenEnv)
	}
	return append(names, t.TokenEnvs...)
}

// TokenHashes returns the SHA-256 of every non-empty static token, which is
// all the scim layer needs to keep: it hashes the presented bearer token and
// compares the digests with crypto/subtle.
func (t Tenant) TokenHashes() [][32]byte {
	var hashes [][32]byte
	for _, tok := range t.Tokens {
		if !tok.IsZero() {
			hashes = append(hashes, sha256.Sum256([]byte(tok.Reveal())))
		}
	}
	return hashes
}

// Lifecycle is a tenant's deprovisioning policy.
type Lifecycle struct {
	// OnDeactivate is disable (default), delete or keep: what an IdP
	// deactivation (active=false, or falling out of scope) does in Atlassian.
	OnDeactivate string `yaml:"on_deactivate" json:"on_deactivate"`
	// OnDelete is disable (default), delete or keep: what an IdP DELETE does.
	OnDelete string `yaml:"on_delete" json:"on_delete"`
	// RemoveGroupsOnDeactivate also removes the memberships the bridge manages.
	RemoveGroupsOnDeactivate bool `yaml:"remove_groups_on_deactivate" json:"remove_groups_on_deactivate"`
	// DeleteAfter deletes accounts the bridge deactivated that long ago; 0 or absent: off.
	DeleteAfter Duration `yaml:"delete_after" json:"delete_after"`
	// InactiveAfter deactivates accounts with no login for that long (licence reclaim); 0 or absent: off.
	InactiveAfter Duration `yaml:"inactive_after" json:"inactive_after"`
	// NeverLoggedIn is deactivate or keep (default): accounts that never logged in.
	NeverLoggedIn string `yaml:"never_logged_in" json:"never_logged_in,omitempty"`
	// ExemptGroups are never deactivated for inactivity (administrators never are).
	ExemptGroups []string `yaml:"exempt_groups" json:"exempt_groups,omitempty"`
	// ReactivateOnLogin reactivates, on a login event, an account deactivated for inactivity.
	ReactivateOnLogin bool `yaml:"reactivate_on_login" json:"reactivate_on_login"`
}

// Spec is the tenant's own mapping/users/groups blocks, before merging with the preset.
func (t Tenant) Spec() transform.Spec {
	return transform.Spec{Mapping: t.Mapping, Users: t.Users, Groups: t.Groups}
}

// JWT configures JWT bearer authentication for a tenant. Exactly one key
// source is set: JWKSFile, JWKSURL or HS256SecretEnv.
type JWT struct {
	// Issuer must equal the token's iss claim.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Audience lists the accepted aud values; the token must carry one. A
	// single string is accepted in the file.
	Audience Audience `yaml:"audience" json:"audience"`
	// JWKSFile is a JWK Set file (RS256/ES256 keys); a relative path is
	// resolved against the config file's directory.
	JWKSFile string `yaml:"jwks_file" json:"jwks_file,omitempty"`
	// JWKSURL is fetched for the JWK Set (RS256/ES256 keys).
	JWKSURL string `yaml:"jwks_url" json:"jwks_url,omitempty"`
	// HS256SecretEnv names the variable holding the HMAC key for HS256.
	HS256SecretEnv string `yaml:"hs256_secret_env" json:"hs256_secret_env,omitempty"`
	// HS256Secret is resolved from HS256SecretEnv by Parse.
	HS256Secret Secret `yaml:"-" json:"hs256_secret,omitzero"`
}

// Load reads the file at path and parses it with Parse, resolving relative
// paths against the file's directory. getenv resolves *_env keys; nil means
// os.Getenv.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c, err := Parse(data, dir, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes data strictly, applies defaults, resolves relative paths
// against baseDir ("" leaves them relative to the working directory) and
// secrets through getenv (nil means os.Getenv), then validates. Every error is
// a *ValidationError listing all problems found.
func Parse(data []byte, baseDir string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{Listen: DefaultListen, Database: DefaultDatabase, LogLevel: DefaultLogLevel, Trace: Trace{MaxBodyBytes: DefaultTraceBodyBytes},
		LookupCacheMiB: DefaultLookupCacheMiB}
	if problems := yamlstrict.Decode(data, c, hint); len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	for i := range c.Tenants {
		if c.Tenants[i].Preset == "" {
			c.Tenants[i].Preset = DefaultPreset
		}
	}
	c.resolvePaths(baseDir)
	c.resolveSecrets(getenv)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// SlogLevel returns LogLevel as a slog.Level (info for anything unknown;
// Validate rejects those).
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (c *Config) resolvePaths(baseDir string) {
	c.Database = resolvePath(baseDir, c.Database)
	for i := range c.Tenants {
		if j := c.Tenants[i].JWT; j != nil {
			j.JWKSFile = resolvePath(baseDir, j.JWKSFile)
		}
	}
}

func resolvePath(baseDir, p string) string {
	if p == "" || baseDir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(baseDir, p)
}

func (c *Config) resolveSecrets(getenv func(string) string) {
	lookup := func(name string) Secret {
		if name == "" {
			return Secret{}
		}
		return NewSecret(getenv(name))
	}
	c.Admin.Token = lookup(c.Admin.TokenEnv)
	c.Webhook.Secret = lookup(c.Webhook.SecretEnv)
	for i := range c.Targets {
		t := &c.Targets[i]
		t.Token = lookup(t.TokenEnv)
		t.Password = lookup(t.PasswordEnv)
	}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		t.Tokens = nil
		for _, name := range t.TokenEnvNames() {
			t.Tokens = append(t.Tokens, lookup(name))
		}
		if t.JWT != nil {
			t.JWT.HS256Secret = lookup(t.JWT.HS256SecretEnv)
		}
	}
}

// hint explains unknown keys that look like a secret written into the file.
func hint(key string) string {
	const why = "secrets never go in the config file: put it in an environment variable and name that with "
	switch key {
	case "token":
		return why + "token_env"
	case "secret":
		return why + "token_env, or hs256_secret_env in a jwt block"
	case "tokens":
		return why + "token_envs"
	case "password":
		return why + "password_env"
	case "hs256_secret":
		return why + "hs256_secret_env"
	}
	return ""
}

// Duration is a time.Duration written in Go syntax (30s, 1m30s) in the file.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax; a bare number is rejected, since
// its unit would be a guess.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if v, err := time.ParseDuration(n.Value); err == nil {
			*d = Duration(v)
			return nil
		}
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf(
		"line %d: %s: want a duration in Go syntax such as 30s or 1m30s", n.Line, n.ShortTag())}}
}

// String formats the duration in Go syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration in Go syntax.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the duration in Go syntax, as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", d.String()), nil }

// Audience is a list of accepted JWT audiences, written in the file either as
// one string or as a list of strings (as the aud claim itself may be).
type Audience []string

// UnmarshalYAML accepts a string or a list of strings.
func (a *Audience) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = Audience{n.Value}
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		list := make(Audience, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
				list = nil
				break
			}
			list = append(list, item.Value)
		}
		if list != nil {
			*a = list
			return nil
		}
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf(
		"line %d: %s: want a string or a list of strings", n.Line, n.ShortTag())}}
}

// DefaultLookupCacheMiB is lookup_cache_mib when the file leaves it out:
// about 11,000 users, a few MB of heap that the process's garbage
// collector setting (GOGC 400) multiplies.
const DefaultLookupCacheMiB = 16

// MaxLookupCacheMiB is the largest lookup_cache_mib Validate accepts.
const MaxLookupCacheMiB = 4096

// LookupCacheBytes is lookup_cache_mib in bytes as sqlite.Options takes
// it: a negative number when the cache is off.
func (c *Config) LookupCacheBytes() int {
	if c.LookupCacheMiB == 0 {
		return -1
	}
	return c.LookupCacheMiB << 20
}
