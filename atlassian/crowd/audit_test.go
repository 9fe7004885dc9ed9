package crowd_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/clienttest"
	"github.com/scimbridge/scimbridge/atlassian/crowd"
)

// ListUsers asks for expand=user,attributes (doc §3.4), so the full reconcile sees last logins
// (inactive_after) without a GET per user.
func TestListUsersCarriesLastLogin(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	e := atlassiantest.New(atlassiantest.Options{User: clienttest.User, Password: clienttest.Password, Now: func() time.Time { return at }})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	c, err := crowd.New(crowd.Options{TransportOptions: clienttest.TransportOptions(t, srv.URL, atlassian.BasicAuth(clienttest.User, clienttest.Password))})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"walker", "sitter"} {
		if err := e.AddUser(atlassiantest.SeedUser{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.RecordLogin("walker"); err != nil {
		t.Fatal(err)
	}
	got := map[string]*time.Time{}
	if err := c.ListUsers(t.Context(), func(u atlassian.User) error { got[u.Name] = u.LastLogin; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["walker"] == nil || !got["walker"].Equal(at) || got["sitter"] != nil {
		t.Fatalf("last logins = %v, want walker at %v and sitter nil", got, at)
	}
}

// notCrowd answers every usermanagement path with a bare 404 page, as a Jira that is not set up
// as a Crowd user server, a wrong base URL, or a Crowd that predates an endpoint does.
func notCrowd(*atlassiantest.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html><body><h1>HTTP Status 404 – Not Found</h1></body></html>")
	})
}

// Crowd names what is missing in its reason (USER_NOT_FOUND, GROUP_NOT_FOUND, doc §3.2, and
// "clients dispatch on reason, not status"); a 404 without one is no answer about the user. Read as
// NotFound it would make the health probe report "ok" and the engine create users that exist.
func TestNotFoundWithoutReasonIsUnsupported(t *testing.T) {
	_, c := startWith(t, notCrowd, nil)
	ctx := t.Context()
	_, err := c.GetUser(ctx, "jdoe")
	if errors.Is(err, atlassian.NotFound) || !errors.Is(err, atlassian.Unsupported) {
		t.Fatalf("GetUser on a server without the Crowd API = %v, want Unsupported", err)
	}
	for name, err := range map[string]error{
		"DeleteUser":   c.DeleteUser(ctx, "jdoe"),
		"DeleteGroup":  c.DeleteGroup(ctx, "g"),
		"RemoveMember": c.RemoveMember(ctx, "g", "jdoe"),
		"ListMembers":  c.ListMembers(ctx, "g", func(atlassian.User) error { return nil }),
	} {
		if errors.Is(err, atlassian.NotFound) || errors.Is(err, atlassian.NotMember) || err == nil {
			t.Errorf("%s = %v, want an error that is not NotFound", name, err)
		}
	}
	// A BaseURL with a wrong context path reaches the emulator's plain 404 page: the health probe
	// (which counts NotFound as "the target answers") must not call that healthy.
	e, _ := startWith(t, nil, nil)
	if err := e.AddUser(atlassiantest.SeedUser{Name: "jdoe"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	wrong, err := crowd.New(crowd.Options{TransportOptions: clienttest.TransportOptions(t, srv.URL+"/jira", atlassian.BasicAuth(clienttest.User, clienttest.Password))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.GetUser(ctx, "jdoe"); !errors.Is(err, atlassian.Unsupported) {
		t.Errorf("GetUser under a wrong context path = %v, want Unsupported", err)
	}
}

// dropReason removes the body of 409 answers: Crowd answers 409 only for an existing membership
// (doc §3.4, status verified by GOCROWD), so the status alone says "already a member".
func dropReason(e *atlassiantest.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if rec.Code == http.StatusConflict {
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			return
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func TestConflictWithoutBodyIsAlreadyMember(t *testing.T) {
	e, c := startWith(t, dropReason, nil)
	if err := e.AddUser(atlassiantest.SeedUser{Name: "m", Groups: []string{"g"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddMember(t.Context(), "g", "m"); err != nil {
		t.Fatalf("AddMember answered 409 without a body = %v, want success", err)
	}
}

// The Crowd application password never shows in logs or errors: not on Crowd's 401, not on a
// dropped connection, not when a proxy echoes the request's Authorization header in its error page.
func TestApplicationPasswordNeverLeaks(t *testing.T) {
	const app, password = "scim-bridge-app", "Crowd-App-P@ss-4f9d"
	b64 := base64.StdEncoding.EncodeToString([]byte(app + ":" + password))
	secrets := []string{password, b64}
	e := atlassiantest.New(atlassiantest.Options{User: app, Password: password})
	if err := e.AddUser(atlassiantest.SeedUser{Name: "jdoe"}); err != nil {
		t.Fatal(err)
	}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/group") {
			// A debugging proxy that answers with the request it saw.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			msg := fmt.Sprintf("proxy refused %s %s (Authorization: %s; password %s)", r.Method, r.URL.Path, r.Header.Get("Authorization"), password)
			_, _ = fmt.Fprintf(w, `{"reason":"OPERATION_FAILED","message":%q}`, msg)
			return
		}
		e.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(echo)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	newClient := func(pw string) *crowd.Client {
		c, err := crowd.New(crowd.Options{TransportOptions: atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BasicAuth(app, pw),
			MaxRetries: 2, MinBackoff: time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good, bad := newClient(password), newClient(password+"-wrong")
	ctx := t.Context()
	var errs []error
	_, err := bad.GetUser(ctx, "jdoe")
	if !errors.Is(err, atlassian.Unauthorized) {
		t.Fatalf("wrong application password = %v, want Unauthorized", err)
	}
	errs = append(errs, err)
	err = good.CreateGroup(ctx, "g")
	if err == nil {
		t.Fatal("the echoing proxy's 400 was not an error")
	}
	errs = append(errs, err)
	e.SetFaults(atlassiantest.Faults{DropRate: 1})
	_, err = good.GetUser(ctx, "jdoe")
	if !errors.Is(err, atlassian.Transient) {
		t.Fatalf("dropped connection = %v, want Transient", err)
	}
	errs = append(errs, err)
	texts := []string{logs.String()}
	for _, err := range errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		if ae, ok := errors.AsType[*atlassian.Error](err); ok {
			texts = append(texts, ae.Text(), fmt.Sprint(ae.Messages, ae.Fields, ae.Code))
		}
	}
	if !strings.Contains(logs.String(), "request_id=") {
		t.Fatalf("no request log captured:\n%s", logs.String())
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("the application password leaked (%s…) in: %s", s[:4], text)
			}
		}
	}
}

// A new user's password is a secret too: a server or proxy that quotes the request body in its
// error does not carry it into the *Error (a password policy refusal, say).
func TestNewUserPasswordNotInErrors(t *testing.T) {
	const pw = "Init1al-User-Pa55word"
	quoting := func(e *atlassiantest.Emulator) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/user") {
				body, _ := io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = fmt.Fprintf(w, `{"reason":"INVALID_CREDENTIAL","message":%q}`, "password policy refused "+string(body))
				return
			}
			e.ServeHTTP(w, r)
		})
	}
	_, c := startWith(t, quoting, nil)
	_, err := c.CreateUser(t.Context(), atlassian.NewUser{Name: "new", DisplayName: "New User", Email: "n@example.com", Password: pw, Active: true})
	if !errors.Is(err, atlassian.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "password policy refused") {
		t.Errorf("error %q: want the server's words without the password", err)
	}
}
