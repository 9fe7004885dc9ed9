package config

import (
	"strings"
	"testing"
)

// Problems inside flow mappings written on a list entry's line name the
// key they concern, not the entry (several mappings start on that line).
func TestProblemPathsInFlowMappings(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"tenants:\n  - {name: entra, token_env: T, jwt: {issuer: x, audience: {aud: a}, jwks_url: 'https://example.com/k'}}\n",
			"line 2: tenants[0] (entra).jwt.audience: want a string or a list of strings"},
		{"tenants: [{name: okta, token_env: T}]\ntargets:\n  - {name: jira, kind: jira-dc, url: 'http://127.0.0.1:1', token_env: T2, timeout: 5}\n",
			"line 3: targets[0] (jira).timeout: want a duration in Go syntax"},
		{"tenants:\n  - {name: okta, token_env: T, lifecycle: {inactive_after: 1h, exempt_groups: {a: b}}}\n",
			"line 2: tenants[0] (okta).lifecycle.exempt_groups: got a mapping, want a list of strings"},
		{"tenants:\n  - {name: okta, token_env: T, mapping: {username: {from: {a: b}}}}\n",
			"line 2: tenants[0] (okta).mapping.username.from: want a path or a list of paths"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.yaml), "", func(string) string { return "a-long-enough-secret-value" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q):\n%v\nwant a problem containing %q", tc.yaml, err, tc.want)
		}
	}
}
