package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/transform"
)

// demoSecrets are generated on the first start and kept in the data
// directory, so an IdP configured against the demo keeps working across
// restarts.
type demoSecrets struct {
	SCIMToken  string `json:"scim_token"`
	AdminToken string `json:"admin_token"`
	JiraToken  string `json:"jira_token"`
}

// demo runs the service with no configuration: SQLite under the data
// directory, the Atlassian emulator embedded as "jira", one tenant "demo".
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address of the SCIM and admin API")
	jiraAddr := fs.String("jira-addr", "127.0.0.1:8090", "address of the embedded Jira emulator")
	data := fs.String("data", "./scimbridge-data", "directory for the SQLite database and the demo's tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	secrets, err := loadDemoSecrets(filepath.Join(*data, "demo-secrets.json"))
	if err != nil {
		return err
	}

	// The embedded Jira emulator, on its own listener.
	emu := atlassiantest.New(atlassiantest.Options{Token: secrets.JiraToken})
	jl, err := net.Listen("tcp", *jiraAddr)
	if err != nil {
		return fmt.Errorf("listen for the Jira emulator: %w", err)
	}
	jiraSrv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = jiraSrv.Serve(jl) }()
	defer jiraSrv.Close()
	jiraURL := "http://" + jl.Addr().String()

	cfg := &config.Config{
		Listen:   *addr,
		Database: filepath.Join(*data, "scimbridge.db"),
		LogLevel: "warn",
		// The *_env names are labels here: the secrets come from the data
		// directory, not from the environment.
		Admin: config.Admin{TokenEnv: "SCIMBRIDGE_DEMO_ADMIN_TOKEN", Token: config.NewSecret(secrets.AdminToken)},
		Targets: []config.Target{{
			Name: "jira", Kind: config.KindJiraDC, URL: jiraURL,
			TokenEnv: "SCIMBRIDGE_DEMO_JIRA_TOKEN", Token: config.NewSecret(secrets.JiraToken),
			RateLimit: 50, Burst: 10, Timeout: config.Duration(config.DefaultTimeout),
		}},
		Tenants: []config.Tenant{{
			Name: "demo", Preset: "generic", TokenEnv: "SCIMBRIDGE_DEMO_SCIM_TOKEN",
			Tokens: []config.Secret{config.NewSecret(secrets.SCIMToken)},
			Groups: transform.Groups{Default: []string{"jira-software-users"}},
		}},
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return serve(ctx, cfg, io.Discard, stderr, func(listen string) {
		printDemo(stdout, "http://"+listen, jiraURL, secrets)
	})
}

func loadDemoSecrets(path string) (demoSecrets, error) {
	var s demoSecrets
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &s); err != nil {
			return s, fmt.Errorf("read %s: %w", path, err)
		}
		if s.SCIMToken != "" && s.AdminToken != "" && s.JiraToken != "" {
			return s, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return s, fmt.Errorf("read %s: %w", path, err)
	}
	s = demoSecrets{SCIMToken: randomToken(), AdminToken: randomToken(), JiraToken: randomToken()}
	data, _ = json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return s, fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux (Go 1.24+ panics instead)
	return hex.EncodeToString(b)
}

func printDemo(w io.Writer, base, jiraURL string, s demoSecrets) {
	scimURL := base + "/scim/v2/demo"
	fmt.Fprintf(w, `scimbridge demo is running.

  SCIM base URL   %[1]s
  SCIM token      %[2]s
  Admin token     %[3]s
  Jira emulator   %[4]s   (state: %[4]s/_emulator/state)

Point your IdP's SCIM app at the base URL with the SCIM token as a Bearer token, or try:

  curl -s -H 'Authorization: Bearer %[2]s' -H 'Content-Type: application/scim+json' \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","displayName":"Ada Lovelace","emails":[{"value":"ada@example.com","type":"work","primary":true}],"active":true}' \
    %[1]s/Users

  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/Users?filter=userName%%20eq%%20%%22ada@example.com%%22'

  curl -s %[4]s/_emulator/state

Press Ctrl-C to stop. Data and tokens are kept in the data directory.
`, scimURL, s.SCIMToken, s.AdminToken, jiraURL)
}
