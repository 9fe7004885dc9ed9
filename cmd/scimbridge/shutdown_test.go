package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// events records the order in which stopAll stops things.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.log, ",")
}

type idleFunc func(ctx context.Context) error

func (f idleFunc) WaitIdle(ctx context.Context) error { return f(ctx) }

// stopAll stops the engine before it waits for the HTTP requests in
// flight: here the request in flight only finishes once the engine was
// told to stop, so the other order would run into the timeout. Reconciles
// are awaited after the drain (the API may have started one), pruning last.
func TestStopAllOrder(t *testing.T) {
	var ev events
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		ev.add("request done")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	reqDone := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
		reqDone <- err
	}()
	<-entered

	engineDone := make(chan struct{})
	pruneDone := make(chan struct{})
	sched := cron.New()
	sched.Start()
	err = stopAll(slog.New(slog.DiscardHandler), running{
		srv: srv,
		stopEngine: func() {
			ev.add("engine stop")
			close(release)
			close(engineDone)
		},
		engineDone: engineDone,
		sched:      sched,
		reconciles: idleFunc(func(context.Context) error { ev.add("reconciles idle"); return nil }),
		stopPrune:  func() { ev.add("prune stop"); close(pruneDone) },
		pruneDone:  pruneDone,
	}, 5*time.Second)
	if err != nil {
		t.Fatalf("stopAll: %v (order %s)", err, ev.String())
	}
	if err := <-reqDone; err != nil {
		t.Errorf("the request in flight failed: %v", err)
	}
	if got, want := ev.String(), "engine stop,request done,reconciles idle,prune stop"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("the server still accepts connections after stopAll")
	}
}

// A part that does not stop in time makes stopAll report it rather than
// hang.
func TestStopAllTimesOut(t *testing.T) {
	srv := &http.Server{}
	never := make(chan struct{})
	done := make(chan struct{})
	close(done)
	err := stopAll(slog.New(slog.DiscardHandler), running{
		srv: srv, stopEngine: func() {}, engineDone: never,
		reconciles: idleFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }),
		stopPrune:  func() {}, pruneDone: done,
	}, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stop engine") {
		t.Fatalf("stopAll = %v, want the engine named", err)
	}
}

// A graceful stop during a burst of creations loses nothing: every user
// the IdP was answered 201 for is in Jira after a restart, and the stop
// itself returns cleanly.
func TestGracefulStopLosesNoAcceptedChange(t *testing.T) {
	emu := atlassiantest.New(atlassiantest.Options{Token: "jira-pat"})
	emu.SetFaults(atlassiantest.Faults{LatencyMS: 20}) // applies are slower than accepts
	jira := httptest.NewServer(emu)
	t.Cleanup(jira.Close)
	dir := t.TempDir()
	cfgPath := writeConfig(t, fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
log_level: info
targets:
  - {name: jira, kind: jira-dc, url: %s, token_env: JIRA_TOKEN, rate_limit: 1000, burst: 100}
tenants:
  - {name: okta, preset: okta, token_env: T}
`, filepath.Join(dir, "db.sqlite"), jira.URL))
	envs := env(map[string]string{"T": "tok-okta", "JIRA_TOKEN": "jira-pat"})

	start := func(ctx context.Context) (addr string, done chan error, logs *syncBuffer) {
		var out syncBuffer
		logs = &syncBuffer{}
		done = make(chan error, 1)
		go func() { done <- run(ctx, []string{"serve", "--config", cfgPath}, envs, &out, logs) }()
		return waitFor(t, &out, "listening on http://"), done, logs
	}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	addr, done, logs := start(ctx)

	const n = 60
	var mu sync.Mutex
	var accepted []string
	next := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 6 {
		wg.Go(func() {
			for i := range next {
				name := fmt.Sprintf("stop-%02d@example.com", i)
				body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"active":true,`+
					`"name":{"givenName":"G","familyName":"F%02d"},"emails":[{"value":%q,"primary":true}]}`, name, i, name)
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/scim/v2/okta/Users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer tok-okta")
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := client.Do(req)
				if err != nil {
					continue // refused: the server had stopped accepting
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					accepted = append(accepted, name)
					if len(accepted) == n/3 {
						stop() // SIGTERM in the middle of the burst
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after the stop: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop within 40 s")
	}
	if len(accepted) < n/3 {
		t.Fatalf("only %d creations accepted before the stop", len(accepted))
	}
	inJira := func() map[string]bool {
		m := map[string]bool{}
		for _, u := range emu.State().Users {
			m[u.Name] = true
		}
		return m
	}
	applied := len(inJira())
	t.Logf("%d of %d creations accepted, %d applied when serve returned", len(accepted), n, applied)
	if l := logs.String(); !strings.Contains(l, `"msg":"scimbridge stopped"`) || strings.Contains(l, "graceful stop incomplete") {
		t.Fatalf("the stop was not clean; logs:\n%s", l)
	}

	// Restart: the outbox holds what the engine did not get to.
	ctx2, stop2 := context.WithCancel(t.Context())
	defer stop2()
	_, done2, _ := start(ctx2)
	deadline := time.Now().Add(30 * time.Second)
	var missing []string
	for {
		got := inJira()
		missing = missing[:0]
		for _, name := range accepted {
			// The okta preset maps userName to the Jira username as is.
			if !got[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
	if len(missing) > 0 {
		t.Fatalf("%d accepted creations never reached Jira after the restart: %v", len(missing), missing)
	}
	stop2()
	if err := <-done2; err != nil {
		t.Fatalf("second serve: %v", err)
	}
}
