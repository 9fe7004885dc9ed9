package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// written returns what reached the underlying writer so far.
func (l *lockedWriter) written(t *testing.T) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*bytes.Buffer).String()
}

// Access lines wait at most the flush delay; another line writes them
// first, so the order holds; a full buffer is written at once; Flush
// writes what is left.
func TestLockedWriterDefersAccessLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &lockedWriter{w: &bytes.Buffer{}}
		_, _ = l.WriteDeferred([]byte("a1\n"))
		_, _ = l.WriteDeferred([]byte("a2\n"))
		if got := l.written(t); got != "" {
			t.Fatalf("written before the delay: %q", got)
		}
		time.Sleep(accessFlushDelay - time.Millisecond)
		synctest.Wait()
		if got := l.written(t); got != "" {
			t.Fatalf("written before the delay: %q", got)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if got := l.written(t); got != "a1\na2\n" {
			t.Fatalf("after the delay: %q", got)
		}

		_, _ = l.WriteDeferred([]byte("a3\n"))
		_, _ = l.Write([]byte("warn\n"))
		if got := l.written(t); got != "a1\na2\na3\nwarn\n" {
			t.Fatalf("another line must follow the access lines before it: %q", got)
		}

		big := strings.Repeat("x", accessFlushBytes)
		_, _ = l.WriteDeferred([]byte(big))
		if got := l.written(t); !strings.HasSuffix(got, big) {
			t.Fatalf("a full buffer was not written at once (%d bytes written)", len(got))
		}

		_, _ = l.WriteDeferred([]byte("a4\n"))
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := l.written(t); !strings.HasSuffix(got, big+"a4\n") {
			t.Fatalf("Flush did not write the rest: %q", got[len(got)-10:])
		}
		time.Sleep(time.Second) // the armed timer fires with nothing left
		synctest.Wait()
		if got := l.written(t); !strings.HasSuffix(got, big+"a4\n") {
			t.Fatalf("a later flush wrote something again: %q", got[len(got)-10:])
		}
	})
}

// The listeners bound the whole request, not only its headers: a caller
// trickling a body cannot hold a connection for ever.
func TestHTTPServerTimeouts(t *testing.T) {
	srv := newHTTPServer(nil, slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout < srv.ReadHeaderTimeout || srv.IdleTimeout <= 0 {
		t.Fatalf("timeouts: header %v, read %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	if srv.ReadTimeout > 5*time.Minute {
		t.Fatalf("read timeout %v lets a slow body hold a connection too long", srv.ReadTimeout)
	}
}
