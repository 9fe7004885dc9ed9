package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// fakeEnv is the environment every test file is loaded with. Values are
// distinctive so a leak is easy to spot.
var fakeEnv = map[string]string{
	"SCIMBRIDGE_ADMIN_TOKEN": "admin-secret-9f1c2e",
	"JIRA_TOKEN":             "jira-pat-secret-77aa",
	"JIRA_PASSWORD":          "jira-password-secret-31",
	"CROWD_PASSWORD":         "crowd-password-secret-42",
	"OKTA_SCIM_TOKEN":        "okta-scim-secret-0001",
	"WEBHOOK_SECRET":         "webhook-secret-0123456789",
	"OKTA_TOKEN_NEXT":        "okta-scim-secret-0002",
	"ENTRA_SCIM_TOKEN":       "entra-scim-secret-0003",
	"ONELOGIN_HS256_KEY":     "onelogin-hs256-secret-0123456789abcdef",
	"SHORT_KEY":              "short-hs256-secret",
	"SHARED_A":               "shared-secret-token",
	"SHARED_B":               "shared-secret-token",
	"EMPTY_VAR":              "",
}

func getenv(name string) string { return fakeEnv[name] }

// secretValues are the values that must never appear in output.
func secretValues() []string {
	var vals []string
	for _, v := range fakeEnv {
		if v != "" {
			vals = append(vals, v)
		}
	}
	return vals
}

func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f, getenv)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(c.Tenants) == 0 {
				t.Fatal("no tenants")
			}
			// Validate is idempotent on a parsed config.
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate after Load: %v", err)
			}
		})
	}
}

// badConfigs maps each testdata/*.bad.yaml to a substring of its error.
var badConfigs = map[string]string{
	"unknown-key.bad.yaml":            "line 1: listn: unknown key; known keys here: listen, database, public_url, log_level, admin, targets, tenants",
	"public-url-relative.bad.yaml":    "public_url: want an absolute http or https URL",
	"unknown-tenant-target.bad.yaml":  `tenants[0] (okta).targets[1]: unknown target "confluence"`,
	"mapping-bad-regex.bad.yaml":      "tenants[0] (okta).mapping.username.rules[1].regex: error parsing regexp",
	"bad-reconcile.bad.yaml":          "reconcile.schedule: want a 5-field cron expression",
	"bad-lifecycle.bad.yaml":          "tenants[0] (okta).lifecycle.on_delete: want disable, delete or keep",
	"literal-token.bad.yaml":          "line 3: tenants[0] (okta).token: unknown key (secrets never go in the config file: put it in an environment variable and name that with token_env",
	"literal-password.bad.yaml":       "line 6: targets[0] (crowd).password: unknown key (secrets never go in the config file: put it in an environment variable and name that with password_env); known keys here: name, kind, url, token_env, user, password_env, rate_limit, burst, timeout, application_keys",
	"literal-secret.bad.yaml":         "line 6: tenants[0] (entra).jwt.secret: unknown key (secrets never go in the config file",
	"bad-duration.bad.yaml":           "line 6: targets[0] (jira).timeout: want a duration in Go syntax such as 30s or 1m30s",
	"bare-number-duration.bad.yaml":   "line 6: targets[0] (jira).timeout: want a duration in Go syntax",
	"jwt-two-sources.bad.yaml":        "tenants[0] (entra).jwt: set exactly one of jwks_file, jwks_url, hs256_secret_env",
	"jwt-no-source.bad.yaml":          "tenants[0] (entra).jwt: set exactly one of jwks_file, jwks_url, hs256_secret_env",
	"jwks-file-missing.bad.yaml":      "tenants[0] (entra).jwt.jwks_file: cannot read ",
	"jwks-file-not-jwks.bad.yaml":     `not-jwks.json is not a JWK Set (want a JSON object with a non-empty "keys" list)`,
	"jwks-file-directory.bad.yaml":    "is not a regular file",
	"jwks-url-relative.bad.yaml":      "tenants[0] (entra).jwt.jwks_url: want an absolute http or https URL",
	"jwt-no-issuer-audience.bad.yaml": "tenants[0] (entra).jwt.issuer: required",
	"audience-mapping.bad.yaml":       "line 5: tenants[0] (entra).jwt.audience: want a string or a list of strings",
	"audience-nested-list.bad.yaml":   "line 5: tenants[0] (entra).jwt.audience: want a string or a list of strings",
	"short-hs256.bad.yaml":            "tenants[0] (entra).jwt.hs256_secret_env: the key in SHORT_KEY is shorter than 32 bytes",
	"no-credential.bad.yaml":          "tenants[0] (okta): no credential: set token_env, token_envs or jwt",
	"duplicate-tenant.bad.yaml":       `tenants[1] (okta).name: duplicate tenant name "okta" (also tenants[0] (okta))`,
	"bad-tenant-name.bad.yaml":        "tenants[0] (Okta_Prod).name: want 1 to 63 characters from a-z, 0-9 and -",
	"long-tenant-name.bad.yaml":       ".name: want 1 to 63 characters",
	"unknown-preset.bad.yaml":         `tenants[0] (okta).preset: unknown preset "azure" (valid: entra, generic, google, jumpcloud, keycloak, okta, onelogin, pingone)`,
	"duplicate-target.bad.yaml":       `targets[1] (jira).name: duplicate target name "jira" (also targets[0] (jira))`,
	"bad-kind.bad.yaml":               `targets[0] (jira).kind: unknown kind "jira-cloud" (want jira-dc or crowd)`,
	"missing-kind.bad.yaml":           "targets[0] (jira).kind: required",
	"relative-url.bad.yaml":           "targets[0] (jira).url: want an absolute http or https URL",
	"ftp-url.bad.yaml":                "targets[0] (jira).url: want an absolute http or https URL",
	"url-credentials.bad.yaml":        "targets[0] (jira).url: must not embed credentials",
	"bad-listen.bad.yaml":             "listen: want host:port such as 127.0.0.1:8080",
	"bad-listen-port.bad.yaml":        "listen: want host:port such as 127.0.0.1:8080 (port 0 to 65535)",
	"bad-log-level.bad.yaml":          "log_level: want one of debug, info, warn, error",
	"unset-env.bad.yaml":              "tenants[0] (okta).token_env: environment variable UNSET_VAR is empty or unset",
	"empty-env.bad.yaml":              "tenants[0] (okta).token_env: environment variable EMPTY_VAR is empty or unset",
	"env-name-not-a-name.bad.yaml":    "tenants[0] (okta).token_env: want the name of an environment variable (letters, digits, _), not the secret itself",
	"crowd-token.bad.yaml":            "targets[0] (crowd): crowd authenticates as an application: set user (the application name) and password_env, not token_env",
	"crowd-no-credentials.bad.yaml":   "targets[0] (crowd): credentials required: set user (the application name) and password_env",
	"both-auth.bad.yaml":              "targets[0] (jira): set either token_env or user and password_env, not both",
	"user-without-password.bad.yaml":  "targets[0] (jira).password_env: required with user",
	"password-without-user.bad.yaml":  "targets[0] (jira).user: required with password_env",
	"zero-rate-limit.bad.yaml":        "targets[0] (jira).rate_limit: want a number of requests per second greater than 0",
	"nan-rate-limit.bad.yaml":         "targets[0] (jira).rate_limit: want a number",
	"zero-burst.bad.yaml":             "targets[0] (jira).burst: want at least 1",
	"negative-timeout.bad.yaml":       "targets[0] (jira).timeout: want a positive duration",
	"shared-token.bad.yaml":           "tenants[1] (b).token_env: the token in SHARED_B is also used by tenants[0] (a) (SHARED_A)",
	"admin-token-reused.bad.yaml":     "tenants[0] (okta).token_env: the token in SCIMBRIDGE_ADMIN_TOKEN is also used by admin.token_env SCIMBRIDGE_ADMIN_TOKEN",
	"token-env-twice.bad.yaml":        "tenants[0] (okta).token_envs[1]: variable OKTA_SCIM_TOKEN is listed twice",
	"no-tenants.bad.yaml":             "tenants: at least one tenant is required",
	"empty.bad.yaml":                  "tenants: at least one tenant is required",
	"tenants-not-a-list.bad.yaml":     "line 1: tenants: got a string, want a list",
	"rate-limit-string.bad.yaml":      "line 6: targets[0] (jira).rate_limit: got a string, want a number",
	"two-documents.bad.yaml":          "more than one YAML document",
	"syntax.bad.yaml":                 "yaml: line 1: did not find expected '-' indicator",
	"duplicate-key.bad.yaml":          `mapping key "listen" already defined at line 1`,
	"four-problems.bad.yaml":          "invalid config (4 problems)",
}

func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(badConfigs) {
		t.Errorf("%d bad files in testdata, %d in the table: keep them in step", len(files), len(badConfigs))
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			want, ok := badConfigs[base]
			if !ok {
				t.Fatalf("no expected message for %s", base)
			}
			c, err := Load(f, getenv)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", c)
			}
			if c != nil {
				t.Error("Load returned a config with its error")
			}
			msg := err.Error()
			if !strings.Contains(msg, want) {
				t.Errorf("error:\n%s\ndoes not contain:\n%s", msg, want)
			}
			if _, ok := errors.AsType[*ValidationError](err); !ok {
				t.Errorf("error %T is not a *ValidationError", err)
			}
			for _, s := range append(secretValues(), "okta-literal-token-value", "crowd-literal-password", "literal-hmac-key", "s3cr3t-t0ken", "hunter2") {
				if strings.Contains(msg, s) {
					t.Errorf("error shows secret %q:\n%s", s, msg)
				}
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, err := Load("testdata/four-problems.bad.yaml", getenv)
	ve, ok := errors.AsType[*ValidationError](err)
	if !ok {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	want := []string{
		"listen: want host:port such as 127.0.0.1:8080",
		"log_level: want one of debug, info, warn, error",
		"tenants[1] (entra).jwt: set exactly one of jwks_file, jwks_url, hs256_secret_env",
		`tenants[2] (okta).name: duplicate tenant name "okta" (also tenants[0] (okta))`,
	}
	if diff := cmp.Diff(want, ve.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	for _, p := range want {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("Error() misses %q", p)
		}
	}
}

func TestDefaults(t *testing.T) {
	const src = `
targets:
  - name: jira
    kind: jira-dc
    url: http://127.0.0.1:8090
    token_env: JIRA_TOKEN
tenants:
  - name: okta
    token_env: OKTA_SCIM_TOKEN
`
	c, err := Parse([]byte(src), "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.Database != "./scimbridge.db" || c.LogLevel != "info" {
		t.Errorf("top-level defaults: listen %q, database %q, log_level %q", c.Listen, c.Database, c.LogLevel)
	}
	if c.SlogLevel() != slog.LevelInfo {
		t.Errorf("SlogLevel = %v", c.SlogLevel())
	}
	tg := c.Targets[0]
	if tg.RateLimit != 10 || tg.Burst != 1 || time.Duration(tg.Timeout) != 30*time.Second {
		t.Errorf("target defaults: rate_limit %v, burst %d, timeout %v", tg.RateLimit, tg.Burst, tg.Timeout)
	}
	if c.Tenants[0].Preset != "generic" {
		t.Errorf("preset default = %q, want generic", c.Tenants[0].Preset)
	}
	if c.Admin.TokenEnv != "" || !c.Admin.Token.IsZero() {
		t.Errorf("admin without token_env: %+v", c.Admin)
	}
}

func TestFullConfigValues(t *testing.T) {
	c, err := Load("testdata/full.good.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.SlogLevel() != slog.LevelDebug {
		t.Errorf("SlogLevel = %v, want debug", c.SlogLevel())
	}
	jira, crowd := c.Targets[0], c.Targets[1]
	if jira.Kind != KindJiraDC || jira.RateLimit != 25 || jira.Burst != 5 || time.Duration(jira.Timeout) != 90*time.Second {
		t.Errorf("jira target: %+v", jira)
	}
	if crowd.Kind != KindCrowd || crowd.User != "scimbridge" || crowd.RateLimit != 10 {
		t.Errorf("crowd target: %+v", crowd)
	}
	entra := c.Tenants[1]
	if diff := cmp.Diff(Audience{"8adf8e6e-67b2-4cf2-a259-e3dc5476c621", "api://scimbridge"}, entra.JWT.Audience); diff != "" {
		t.Errorf("audience list (-want +got):\n%s", diff)
	}
	if got := c.Tenants[2].JWT.Audience; !slices.Equal(got, []string{"scimbridge"}) {
		t.Errorf("audience string = %v", got)
	}
	if c.Tenants[3].JWT.JWKSURL != "https://auth.pingone.example/as/jwks" {
		t.Errorf("jwks_url = %q", c.Tenants[3].JWT.JWKSURL)
	}
}

func TestEnvResolution(t *testing.T) {
	var asked []string
	env := func(name string) string {
		asked = append(asked, name)
		return fakeEnv[name]
	}
	c, err := Load("testdata/full.good.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  Secret
		env  string
	}{
		{"admin", c.Admin.Token, "SCIMBRIDGE_ADMIN_TOKEN"},
		{"jira token", c.Targets[0].Token, "JIRA_TOKEN"},
		{"crowd password", c.Targets[1].Password, "CROWD_PASSWORD"},
		{"okta token", c.Tenants[0].Tokens[0], "OKTA_SCIM_TOKEN"},
		{"okta next token", c.Tenants[0].Tokens[1], "OKTA_TOKEN_NEXT"},
		{"entra token", c.Tenants[1].Tokens[0], "ENTRA_SCIM_TOKEN"},
		{"onelogin hs256", c.Tenants[2].JWT.HS256Secret, "ONELOGIN_HS256_KEY"},
	}
	for _, ck := range checks {
		if ck.got.Reveal() != fakeEnv[ck.env] {
			t.Errorf("%s: resolved wrong value from %s", ck.name, ck.env)
		}
		if !slices.Contains(asked, ck.env) {
			t.Errorf("%s: getenv never asked for %s", ck.name, ck.env)
		}
	}
	if !c.Targets[0].Password.IsZero() || !c.Targets[1].Token.IsZero() {
		t.Error("secrets resolved for keys that are not set")
	}
	okta := c.Tenants[0]
	if !slices.Equal(okta.TokenEnvNames(), []string{"OKTA_SCIM_TOKEN", "OKTA_TOKEN_NEXT"}) {
		t.Errorf("TokenEnvNames = %v", okta.TokenEnvNames())
	}
	want := [][32]byte{sha256.Sum256([]byte("okta-scim-secret-0001")), sha256.Sum256([]byte("okta-scim-secret-0002"))}
	if diff := cmp.Diff(want, okta.TokenHashes()); diff != "" {
		t.Errorf("TokenHashes (-want +got):\n%s", diff)
	}
	if got := c.Tenants[2].TokenHashes(); len(got) != 0 {
		t.Errorf("JWT-only tenant has %d token hashes", len(got))
	}
}

func TestNilGetenvUsesProcessEnvironment(t *testing.T) {
	t.Setenv("CONFIG_TEST_TOKEN", "from-process-env")
	c, err := Parse([]byte("tenants: [{name: x, token_env: CONFIG_TEST_TOKEN}]"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tenants[0].Tokens[0].Reveal() != "from-process-env" {
		t.Error("nil getenv did not read the process environment")
	}
}

func TestRelativePaths(t *testing.T) {
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("testdata/issue2.good.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(abs, "scimbridge.db"); c.Database != want {
		t.Errorf("database = %q, want %q", c.Database, want)
	}
	if want := filepath.Join(abs, "entra-jwks.json"); c.Tenants[1].JWT.JWKSFile != want {
		t.Errorf("jwks_file = %q, want %q", c.Tenants[1].JWT.JWKSFile, want)
	}

	// From another directory: the same relative path is resolved against the
	// config file's directory, not the working directory.
	dir := t.TempDir()
	jwks, err := os.ReadFile("testdata/entra-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "jwks.json"), jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	src := "database: data/bridge.db\ntenants:\n  - name: entra\n    jwt: {issuer: i, audience: a, jwks_file: keys/jwks.json}\n"
	cfgPath := filepath.Join(dir, "scimbridge.yaml")
	if err := os.WriteFile(cfgPath, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(cfgPath, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "data", "bridge.db"); c.Database != want {
		t.Errorf("database = %q, want %q", c.Database, want)
	}
	if want := filepath.Join(dir, "keys", "jwks.json"); c.Tenants[0].JWT.JWKSFile != want {
		t.Errorf("jwks_file = %q, want %q", c.Tenants[0].JWT.JWKSFile, want)
	}

	// Absolute paths stay; an empty baseDir leaves relative paths alone.
	absDB := filepath.Join(dir, "abs.db")
	c, err = Parse([]byte("database: "+absDB+"\ntenants: [{name: x, token_env: OKTA_SCIM_TOKEN}]"), "/elsewhere", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != absDB {
		t.Errorf("absolute database = %q, want %q", c.Database, absDB)
	}
	c, err = Parse([]byte("tenants: [{name: x, token_env: OKTA_SCIM_TOKEN}]"), "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != DefaultDatabase {
		t.Errorf("database with empty baseDir = %q", c.Database)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, err := Load("testdata/full.good.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c), fmt.Sprintf(verb, c.Tenants[0].Tokens[0]))
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "admin", c.Admin.Token, "tenant", c.Tenants[0].Tokens[0])
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", c)
	outputs = append(outputs, string(js), string(ys), logs.String())
	for _, out := range outputs {
		for _, s := range secretValues() {
			if strings.Contains(out, s) {
				t.Fatalf("output shows secret %q:\n%s", s, out)
			}
		}
	}
	// The redaction marker is there, so the test looked at the right thing.
	if !strings.Contains(string(js), `"token":"[redacted]"`) || !strings.Contains(fmt.Sprintf("%+v", c.Admin), "[redacted]") {
		t.Errorf("no [redacted] marker in JSON or %%+v output:\n%s", js)
	}
}

func TestSecretMatches(t *testing.T) {
	s := NewSecret("right-token")
	if !s.Matches("right-token") {
		t.Error("equal value does not match")
	}
	for _, wrong := range []string{"", "right-toke", "right-token ", "RIGHT-TOKEN"} {
		if s.Matches(wrong) {
			t.Errorf("%q matches", wrong)
		}
	}
	if NewSecret("").Matches("") || (Secret{}).Matches("") {
		t.Error("an empty secret matches the empty string")
	}
}

func TestDurationAndAudienceEncode(t *testing.T) {
	js, err := json.Marshal(struct {
		D Duration
		A Audience
	}{Duration(90 * time.Second), Audience{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `{"D":"1m30s","A":["a","b"]}` {
		t.Errorf("json = %s", js)
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "testdata", getenv)
		if err != nil {
			ve, ok := errors.AsType[*ValidationError](err)
			if !ok || len(ve.Problems) == 0 {
				t.Fatalf("error %v (%T) is not a *ValidationError with problems", err, err)
			}
			for _, p := range ve.Problems {
				if p == "" {
					t.Fatal("empty problem")
				}
			}
			return
		}
		if len(c.Tenants) == 0 {
			t.Fatal("accepted a config without tenants")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate rejects: %v", err)
		}
		for _, tn := range c.Tenants {
			if len(tn.TokenHashes()) == 0 && tn.JWT == nil {
				t.Fatalf("tenant %q has no credential", tn.Name)
			}
		}
		out := fmt.Sprintf("%+v %#v", c, c)
		for _, s := range secretValues() {
			if strings.Contains(out, s) {
				t.Fatalf("output shows secret %q", s)
			}
		}
	})
}

func TestIssue4TenantCompiles(t *testing.T) {
	c, err := Load("testdata/issue4.good.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	tn := c.Tenants[0]
	if tn.Compiled == nil || tn.Priority != 10 || tn.Lifecycle.OnDeactivate != "disable" || len(tn.Targets) != 1 {
		t.Fatalf("tenant not fully loaded: %+v", tn)
	}
	d, err := tn.Compiled.Desired(map[string]any{
		"userName": "Ada.Lovelace@example.com", "displayName": "Ada Lovelace", "active": true,
		"emails": []any{map[string]any{"value": "ada@example.com", "primary": true}},
	}, []string{"jira-users", "okta-jira-devs", "jira-administrators", "sales"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Skipped || d.Username != "ada.lovelace" || d.Email != "ada@example.com" {
		t.Fatalf("desired = %+v", d)
	}
	want := []string{"jira-devs", "jira-software-users", "jira-users"}
	if !slices.Equal(d.Groups, want) {
		t.Fatalf("groups = %v, want %v", d.Groups, want)
	}
}
