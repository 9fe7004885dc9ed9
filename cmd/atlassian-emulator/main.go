// Command atlassian-emulator serves the in-memory Jira DC REST v2 and Crowd usermanagement
// emulator of package atlassiantest over HTTP, for demos, docker-compose and black-box tests.
//
//	atlassian-emulator --addr 127.0.0.1:8090 [--token T] [--user U --password P]
//	                   [--license-seats N] [--jira-version V] [--seed S]
//
// It prints the URL it listens on and stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "atlassian-emulator:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("atlassian-emulator", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	var opts atlassiantest.Options
	fs.StringVar(&opts.Token, "token", "", "personal access token accepted as Bearer (empty: none)")
	fs.StringVar(&opts.User, "user", "", "basic-auth user of the Jira face and Crowd application name (empty: none)")
	fs.StringVar(&opts.Password, "password", "", "password for --user")
	fs.IntVar(&opts.LicenseSeats, "license-seats", 0, "Jira licence seats (0: unlimited)")
	fs.StringVar(&opts.JiraVersion, "jira-version", "9.12.0", "emulated Jira version")
	fs.Int64Var(&opts.Seed, "seed", 0, "seed for fault-injection randomness (0: fixed default)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("options: %w", err)
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           atlassiantest.New(opts),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(stdout, "atlassian-emulator listening on http://%s (Jira %s)\n", ln.Addr(), opts.JiraVersion)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
