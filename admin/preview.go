package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// PreviewRequest is the body of POST /api/v1/preview.
type PreviewRequest struct {
	Tenant string `json:"tenant"`
	// User is a SCIM user as an IdP would send it; any attributes, decoded
	// leniently (it is the IdP's document, not ours).
	User json.RawMessage `json:"user"`
	// Groups are the user's IdP group names (already flattened).
	Groups []string `json:"groups"`
}

// PreviewAccount is the account part of a preview.
type PreviewAccount struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Active      bool   `json:"active"`
}

// PreviewResponse is what the tenant's mapping makes of the user.
type PreviewResponse struct {
	Account PreviewAccount `json:"account"`
	Groups  []string       `json:"groups"`
	Skipped bool           `json:"skipped"`
	Reason  string         `json:"reason"`
}

// preview serves POST /api/v1/preview: the account and groups a user would
// get, computed by the same transform the engine uses, storing nothing.
func (a *API) preview(w http.ResponseWriter, r *http.Request) {
	var req PreviewRequest
	if !a.decodeBody(w, r, &req) {
		return
	}
	if req.Tenant == "" {
		badRequest(w, `"tenant" is required`)
		return
	}
	if len(bytes.TrimSpace(req.User)) == 0 {
		badRequest(w, `"user" is required: a SCIM user object`)
		return
	}
	user, err := decodeUser(req.User)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	mapping, ok := a.tenants[req.Tenant]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no tenant %q", clip(req.Tenant)))
		return
	}
	d, err := mapping.Desired(user, req.Groups)
	if err != nil {
		// The transform's errors name the field, the rule and the input the
		// admin sent: exactly what they need to fix the mapping.
		writeError(w, http.StatusUnprocessableEntity, "mapping_failed", err.Error())
		return
	}
	out := PreviewResponse{
		Account: PreviewAccount{Username: d.Username, DisplayName: d.DisplayName, Email: d.Email, Active: d.Active},
		Groups:  d.Groups, Skipped: d.Skipped, Reason: d.Reason,
	}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	writeJSON(w, http.StatusOK, out)
}

// decodeUser reads the SCIM user object. Numbers stay json.Number so they
// print as sent (an employee number is not a float).
func decodeUser(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var user map[string]any
	if err := dec.Decode(&user); err != nil || user == nil {
		return nil, errors.New(`"user" must be a JSON object (a SCIM user)`)
	}
	return user, nil
}
