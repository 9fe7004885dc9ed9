package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"
)

// shutdownTimeout bounds a graceful stop. Container runtimes must allow
// more before they kill the process (docker-compose.yml: stop_grace_period).
const shutdownTimeout = 30 * time.Second

// running holds the parts of serve that stopAll stops.
type running struct {
	srv        *http.Server
	stopEngine context.CancelFunc
	engineDone <-chan struct{}
	sched      *cron.Cron // nil without reconcile.schedule
	reconciles interface {
		WaitIdle(ctx context.Context) error
	}
	stopPrune context.CancelFunc
	pruneDone <-chan struct{}
}

// stopAll stops the service in the order that loses nothing, within
// timeout; the caller closes the database afterwards.
//
//  1. The scheduler starts no more reconciles.
//  2. The engine starts no new job; the jobs being applied finish. It
//     stops before the HTTP drain so a drain that waits out slow clients
//     does not keep feeding Atlassian new work.
//  3. The HTTP server stops accepting and waits for the requests in
//     flight: every change it accepted is committed, with its outbox job,
//     before its response is written, and the jobs the engine did not get
//     to are applied on the next start.
//  4. Reconciles already running (triggered by the API, the webhook or the
//     scheduler) finish, then history pruning stops, so nothing uses the
//     database when it is closed.
//
// Past the timeout it gives up waiting and returns an error; what was not
// applied is still in the outbox.
func stopAll(log *slog.Logger, p running, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if p.sched != nil {
		select {
		case <-p.sched.Stop().Done():
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stop scheduler: %w", ctx.Err()))
		}
	}
	p.stopEngine()
	if err := p.srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop http server: %w", err))
	}
	select {
	case <-p.engineDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("stop engine: the jobs in flight did not finish: %w", ctx.Err()))
	}
	if err := p.reconciles.WaitIdle(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wait for running reconciles: %w", err))
	}
	p.stopPrune()
	select {
	case <-p.pruneDone:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("stop history pruning: %w", ctx.Err()))
	}
	if len(errs) > 0 {
		for _, err := range errs {
			log.Error("graceful stop incomplete", "err", err)
		}
		return fmt.Errorf("shutdown: %w", errs[0])
	}
	return nil
}
