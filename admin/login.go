package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/store"
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
// every user link of the target whose applied username matches, then tells
// the Reactivator, if any.
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
	var matched []store.Link
	// Unverified: a store method finding links by applied name would avoid
	// walking every link of the target per login.
	err := a.st.ListLinks(ctx, req.Target, func(l store.Link) error {
		// Deleted and skipped links hold nothing of ours in the target: a
		// login by that name is someone else's account.
		if l.Kind == store.KindUser && l.State != store.LinkDeleted && l.State != store.LinkSkipped &&
			l.AppliedName != "" && strings.EqualFold(l.AppliedName, req.Username) {
			matched = append(matched, l)
		}
		return nil
	})
	if err != nil {
		a.internalError(w, r, "finding the user's accounts", err)
		return
	}
	if len(matched) == 0 {
		writeError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("the bridge manages no account named %q on target %q", clip(req.Username), req.Target))
		return
	}
	at := a.now().UTC()
	for i := range matched {
		l := &matched[i]
		// The last login is the later of what is known: a target's own
		// record may already be newer than this event.
		if l.LastLoginAt != nil && !l.LastLoginAt.Before(at) {
			continue
		}
		l.LastLoginAt = &at
		if err := a.st.PutLink(ctx, *l); err != nil {
			a.internalError(w, r, "recording the login", err)
			return
		}
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
