package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// LoginRequest is the body of POST /api/v1/login-events.
type LoginRequest struct {
	Target   string `json:"target"`
	Username string `json:"username"`
}

// LoginResponse answers a recorded login.
type LoginResponse struct {
	Target   string    `json:"target"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
	// Accounts is how many of our accounts on the target the login was
	// recorded on (one per tenant owning that username).
	Accounts int `json:"accounts"`
}

// maxUsernameLen is Jira's username limit.
const maxUsernameLen = 255

// loginEvent serves POST /api/v1/login-events: it records the login on
// every user link of the target whose applied username matches
// (case-insensitively; deleted and skipped links hold nothing of ours in
// the target, so a login by that name is someone else's), then tells the
// Reactivator, if any.
func (a *API) loginEvent(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if !a.decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.Target == "":
		badRequest(w, `"target" is required`)
		return
	case !a.targets[req.Target]:
		badRequest(w, fmt.Sprintf("there is no target %q that accepts login events", clip(req.Target)))
		return
	case strings.TrimSpace(req.Username) == "":
		badRequest(w, `"username" is required`)
		return
	case len(req.Username) > maxUsernameLen || !utf8.ValidString(req.Username):
		badRequest(w, fmt.Sprintf(`"username" must be valid UTF-8 of at most %d bytes`, maxUsernameLen))
		return
	}
	ctx := r.Context()
	at := a.now().UTC()
	// One write finds the user links of the target with that applied name
	// and records the login on them, so it never writes back a stale copy
	// of a link the engine changed meanwhile. The store keeps a later login
	// already known (from the target's own record, say).
	//
	// The other way round is safe too: the engine writes whole links from
	// a copy it read earlier, and PutLink keeps the later last login.
	matched, err := a.st.RecordLogin(ctx, req.Target, req.Username, at)
	if err != nil {
		a.internalError(w, r, "recording the login", err)
		return
	}
	if len(matched) == 0 {
		writeError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("the bridge manages no account named %q on target %q", clip(req.Username), req.Target))
		return
	}
	if a.react != nil {
		ev := LoginEvent{Target: req.Target, Username: req.Username, At: at, Links: matched}
		if err := a.react.Reactivate(ctx, ev); err != nil {
			// The login is recorded; recording it again is harmless, so a
			// caller that retries loses nothing.
			a.internalError(w, r, "reactivating the account", err)
			return
		}
	}
	writeJSON(w, http.StatusAccepted, LoginResponse{Target: req.Target, Username: req.Username, At: at, Accounts: len(matched)})
}
