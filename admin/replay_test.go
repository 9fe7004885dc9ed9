package admin_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// webhookServer is the admin API on a SQLite file, as serve runs it.
type webhookServer struct {
	db  *sqlite.DB
	srv *httptest.Server
	rec *fakeReconciler
}

func startWebhookServer(t *testing.T, path string, clk *clock) *webhookServer {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeReconciler{st: db}
	api, err := admin.New(db, rec, admin.Options{WebhookSecret: webhookSecret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ws := &webhookServer{db: db, srv: httptest.NewServer(api.Handler()), rec: rec}
	t.Cleanup(ws.stop)
	return ws
}

func (ws *webhookServer) stop() {
	ws.srv.Close()
	_ = ws.db.Close()
}

// post sends a webhook call signed for ts and returns the status and body.
func (ws *webhookServer) post(t *testing.T, ts int64, body []byte) (int, string) {
	t.Helper()
	s := strconv.FormatInt(ts, 10)
	req, err := http.NewRequest(http.MethodPost, ws.srv.URL+"/api/v1/webhooks/reconcile", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(admin.TimestampHeader, s)
	req.Header.Set(admin.SignatureHeader, admin.Sign(webhookSecret, s, body))
	res, err := ws.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// A call accepted before a restart is still a replay after it: the
// accepted signatures live in the database, not only in memory.
func TestWebhookReplayRefusedAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.db")
	clk := &clock{t: epoch}
	body := []byte(`{"event":"restart"}`)
	ts := epoch.Unix()

	first := startWebhookServer(t, path, clk)
	if code, b := first.post(t, ts, body); code != http.StatusAccepted {
		t.Fatalf("first call: %d %s", code, b)
	}
	if code, _ := first.post(t, ts, body); code != http.StatusUnauthorized {
		t.Fatalf("replay before the restart: %d", code)
	}
	first.stop()

	clk.Advance(2 * time.Minute) // still inside the call's window
	second := startWebhookServer(t, path, clk)
	code, b := second.post(t, ts, body)
	if code != http.StatusUnauthorized || !strings.Contains(b, "already used") {
		t.Fatalf("replay after the restart: %d %s, want 401 already used", code, b)
	}
	if n := len(second.rec.calls()); n != 0 {
		t.Fatalf("the replay triggered %d runs", n)
	}
	if code, b := second.post(t, ts+1, body); code != http.StatusAccepted {
		t.Fatalf("a fresh call after the restart: %d %s", code, b)
	}
	if code, _ := second.post(t, ts+1, body); code != http.StatusUnauthorized {
		t.Fatalf("replay of the fresh call: %d", code)
	}
}

// When the store cannot record the signature the call is refused without
// internals, starts nothing, and does not burn the signature.
func TestWebhookStoreFailure(t *testing.T) {
	clk := &clock{t: epoch}
	ws := startWebhookServer(t, filepath.Join(t.TempDir(), "admin.db"), clk)
	if err := ws.db.Close(); err != nil {
		t.Fatal(err)
	}
	code, b := ws.post(t, epoch.Unix(), []byte("{}"))
	if code != http.StatusInternalServerError || !strings.Contains(b, `"internal"`) || strings.Contains(b, "sqlite") {
		t.Fatalf("store down: %d %s", code, b)
	}
	if n := len(ws.rec.calls()); n != 0 {
		t.Fatalf("%d runs triggered", n)
	}
}
