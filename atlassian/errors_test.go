package atlassian_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

func TestErrorKindsWorkWithErrorsIsAndAs(t *testing.T) {
	base := &atlassian.Error{Kind: atlassian.DeleteRefused, Op: "DELETE /rest/api/2/user", Status: 400,
		Messages: []string{"Cannot delete user 'fred' because they have reported 2 issues."}}
	err := fmt.Errorf("delete user %q: %w", "fred", base)
	if !errors.Is(err, atlassian.DeleteRefused) || errors.Is(err, atlassian.NotFound) {
		t.Errorf("errors.Is kind mismatch for %v", err)
	}
	if atlassian.KindOf(err) != atlassian.DeleteRefused || atlassian.KindOf(errors.New("x")) != atlassian.Other {
		t.Error("KindOf mismatch")
	}
	e, ok := errors.AsType[*atlassian.Error](err)
	if !ok || e != base {
		t.Fatal("errors.As did not find the *Error")
	}
	want := `delete user "fred": atlassian: DELETE /rest/api/2/user: delete refused (HTTP 400): Cannot delete user 'fred' because they have reported 2 issues.`
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), want)
	}
}

func TestErrorStringIncludesCodeFieldsAndRetryAfter(t *testing.T) {
	e := &atlassian.Error{Kind: atlassian.RateLimited, Op: "GET /x", Status: 429, Code: "RATE", RetryAfter: 2 * time.Second,
		Fields: map[string]string{"b": "2", "a": "1"}, Err: errors.New("cause")}
	want := "atlassian: GET /x: rate limited (HTTP 429, RATE, retry after 2s): a: 1; b: 2: cause"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if !errors.Is(e, e.Err) {
		t.Error("Unwrap does not expose the cause")
	}
}

func TestKindForStatus(t *testing.T) {
	for status, want := range map[int]atlassian.ErrorKind{400: atlassian.Invalid, 401: atlassian.Unauthorized, 402: atlassian.LicenseLimit,
		403: atlassian.Forbidden, 404: atlassian.NotFound, 409: atlassian.AlreadyExists, 429: atlassian.RateLimited,
		500: atlassian.Transient, 503: atlassian.Transient, 418: atlassian.Other} {
		if got := atlassian.KindForStatus(status); got != want {
			t.Errorf("KindForStatus(%d) = %v, want %v", status, got, want)
		}
	}
	if s := atlassian.ErrorKind(99).String(); s != "kind(99)" {
		t.Errorf("unknown kind string %q", s)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"Fri, 02 Jan 2026 03:04:15 GMT", 10 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true}, // in the past
		{"99999999999999999999", 24 * time.Hour, true},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range cases {
		got, ok := atlassian.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %t; want %v, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "3", "1e9", "-0", "Inf", "Mon, 02 Jan 2006 15:04:05 GMT", "Monday, 02-Jan-06 15:04:05 MST", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := atlassian.ParseRetryAfter(s, now)
		if d < 0 || d > 24*time.Hour || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %t", s, d, ok)
		}
	})
}

func TestNewUserAndAuthNeverPrintSecrets(t *testing.T) {
	n := atlassian.NewUser{Name: "jdoe", Password: "pw-secret-123", ApplicationKeys: []string{"jira-software"}, Active: true}
	a := atlassian.BasicAuth("app", "pw-secret-123")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "user", n, "auth", a)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", n, n, n, logs.String(), a, a, a)
	if strings.Contains(out, "pw-secret") {
		t.Fatalf("secret printed: %s", out)
	}
	if !strings.Contains(out, "jdoe") || !strings.Contains(out, "[REDACTED]") {
		t.Errorf("expected name and redaction marker in %s", out)
	}
}
