package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// reconcileCmd runs one full reconcile and prints the run (and with --json
// its results). It exits 0 when the run succeeded, whether or not it found
// drift.
func reconcileCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path to the YAML configuration")
	dryRun := fs.Bool("dry-run", false, "plan and record the results without writing to Atlassian")
	force := fs.Bool("force", false, "apply a plan that trips the safety brake")
	asJSON := fs.Bool("json", false, "print the run and its results as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("--config FILE is required")
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	// No lookup cache: this process serves no SCIM lookups, and the writes
	// of a serve process running meanwhile would never reach its cache.
	st, err := sqlite.Open(ctx, cfg.Database, sqlite.Options{LookupCacheBytes: -1})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	tgs, err := targets(cfg, log)
	if err != nil {
		return err
	}
	engine, err := reconcile.New(st, engineTenants(cfg), tgs, reconcile.Options{Logger: log})
	if err != nil {
		return err
	}
	run, err := engine.Reconcile(ctx, runOptions(cfg, "manual", *dryRun, *force))
	if err != nil {
		return err
	}
	if *asJSON {
		results, err := st.ListResults(ctx, run.ID, store.ResultQuery{})
		if err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		out := struct {
			Run     admin.RunJSON      `json:"run"`
			Results []admin.ResultJSON `json:"results"`
		}{Run: admin.NewRunJSON(run), Results: []admin.ResultJSON{}}
		for _, r := range results {
			out.Results = append(out.Results, admin.NewResultJSON(r))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "run %d (%s): %s %v\n", run.ID, run.Kind, run.Status, run.Counts)
		if run.Error != "" {
			fmt.Fprintln(stdout, run.Error)
		}
	}
	if run.Status != "succeeded" {
		return fmt.Errorf("run %d %s", run.ID, run.Status)
	}
	return nil
}
