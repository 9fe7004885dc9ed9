package reconcile_test

import (
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/transform"
)

// recordingObserver keeps what the engine told it.
type recordingObserver struct {
	mu      sync.Mutex
	results []string // kind/target/action
	runs    []store.Run
}

func (o *recordingObserver) Recorded(kind string, res store.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.results = append(o.results, kind+"/"+res.Target+"/"+res.Action)
}

func (o *recordingObserver) RunFinished(run store.Run) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs = append(o.runs, run)
}

// The observer hears every recorded result with its run's kind, and every
// finished run with its final status, counts and times.
func TestObserverSeesResultsAndRuns(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "obs.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(atlassiantest.New(atlassiantest.Options{Token: "pat", Now: clk.Now}))
	t.Cleanup(srv.Close)
	client, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{
		BaseURL: srv.URL, Auth: atlassian.BearerToken("pat"), Timeout: 10 * time.Second, MaxRetries: -1,
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := presets.Get("okta")
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := transform.Compile(p.Spec())
	if err != nil {
		t.Fatal(err)
	}
	obs := &recordingObserver{}
	eng, err := reconcile.New(st, []reconcile.Tenant{{Name: "okta", Targets: []string{"jira"}, Mapping: mapping}},
		[]reconcile.Target{{Name: "jira", Dir: client, ApplicationKeys: []string{"jira-software"}}},
		reconcile.Options{Now: clk.Now, Workers: 2, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(t.Context(), store.User{Tenant: "okta", UserName: "ada@example.com", Active: true,
		Attributes: map[string]any{"displayName": "Ada", "emails": []any{map[string]any{"value": "ada@example.com", "primary": true}}}}); err != nil {
		t.Fatal(err)
	}
	push, err := eng.Drain(t.Context(), t.Context(), "test")
	if err != nil || push.ID == 0 {
		t.Fatalf("drain: run %+v, err %v", push, err)
	}
	if _, err := eng.Reconcile(t.Context(), reconcile.RunOptions{Trigger: "manual"}); err != nil {
		t.Fatal(err)
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Equal(obs.results, []string{"push/jira/created", "reconcile/jira/unchanged"}) {
		t.Fatalf("results = %q", obs.results)
	}
	if len(obs.runs) != 2 {
		t.Fatalf("finished runs = %+v, want 2", obs.runs)
	}
	first, second := obs.runs[0], obs.runs[1]
	if first.ID != push.ID || first.Kind != "push" || first.Status != "succeeded" || first.Counts["created"] != 1 || first.FinishedAt == nil {
		t.Fatalf("push run = %+v", first)
	}
	if second.Kind != "reconcile" || second.Status != "succeeded" || second.Counts["unchanged"] != 1 || second.FinishedAt == nil {
		t.Fatalf("reconcile run = %+v", second)
	}
}
