// Command scimbridge is the SCIM-to-Atlassian provisioning bridge: IdPs push
// users and groups over SCIM 2.0; the bridge keeps Jira, Confluence and Crowd
// in step.
//
//	scimbridge serve --config FILE
//	scimbridge demo [--addr 127.0.0.1:8080] [--data DIR]
//	scimbridge check --config FILE
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The GC defaults are process-wide, so they are set here rather than in
	// run, which tests call many times in one process.
	if len(os.Args) > 1 && os.Args[1] == "serve" && os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		stopGC := tuneGC(ctx)
		defer stopGC()
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "scimbridge:", err)
		os.Exit(1)
	}
}
