package atlassiantest

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// controlError is the body of a refused control request.
type controlError struct {
	Error string `json:"error"`
}

// serveControl answers /_emulator/*: no credentials, no faults, no rate limit, not recorded.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	m := r.Method
	switch r.URL.Path {
	case "/_emulator/state":
		if m != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		st := e.State()
		e.writeJSON(w, http.StatusOK, &st)
	case "/_emulator/faults":
		switch m {
		case http.MethodGet:
			e.writeJSON(w, http.StatusOK, e.currentFaults())
		case http.MethodPost, http.MethodPut:
			var f Faults
			if err := decodeStrict(r, &f); err != nil {
				e.writeJSON(w, http.StatusBadRequest, controlError{err.Error()})
				return
			}
			if err := f.validate(); err != nil {
				e.writeJSON(w, http.StatusBadRequest, controlError{err.Error()})
				return
			}
			e.SetFaults(f)
			e.writeJSON(w, http.StatusOK, e.currentFaults())
		default:
			methodNotAllowed(w, "GET, POST, PUT")
		}
	case "/_emulator/reset":
		if m != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "/_emulator/login", "/_emulator/content":
		if m != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		var in struct {
			Username string `json:"username"`
		}
		if err := decodeStrict(r, &in); err != nil {
			e.writeJSON(w, http.StatusBadRequest, controlError{err.Error()})
			return
		}
		var err error
		if r.URL.Path == "/_emulator/login" {
			err = e.RecordLogin(in.Username)
		} else {
			err = e.SetHasContent(in.Username)
		}
		switch {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrUserNotFound):
			e.writeJSON(w, http.StatusNotFound, controlError{err.Error()})
		default: // ErrUserInactive: an inactive user cannot log in
			e.writeJSON(w, http.StatusForbidden, controlError{err.Error()})
		}
	case "/_emulator/users":
		if m != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		e.controlSeed(w, r)
	case "/_emulator/requests":
		switch m {
		case http.MethodGet:
			e.writeJSON(w, http.StatusOK, e.Requests())
		case http.MethodDelete:
			e.ResetRequests()
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, "GET, DELETE")
		}
	default:
		e.writeJSON(w, http.StatusNotFound, controlError{"no control endpoint " + r.URL.Path})
	}
}

// seedUserJSON is the POST /_emulator/users body. "active" defaults to true.
type seedUserJSON struct {
	Name          string     `json:"name"`
	Key           string     `json:"key"`
	DisplayName   string     `json:"displayName"`
	EmailAddress  string     `json:"emailAddress"`
	Password      string     `json:"password"`
	Active        *bool      `json:"active"`
	Groups        []string   `json:"groups"`
	HasContent    bool       `json:"hasContent"`
	LastLoginTime *time.Time `json:"lastLoginTime"`
}

func (e *Emulator) controlSeed(w http.ResponseWriter, r *http.Request) {
	var in seedUserJSON
	if err := decodeStrict(r, &in); err != nil {
		e.writeJSON(w, http.StatusBadRequest, controlError{err.Error()})
		return
	}
	err := e.AddUser(SeedUser{
		Name: in.Name, Key: in.Key, DisplayName: in.DisplayName, EmailAddress: in.EmailAddress,
		Password: in.Password, Inactive: in.Active != nil && !*in.Active, Groups: in.Groups,
		HasContent: in.HasContent, LastLoginTime: in.LastLoginTime,
	})
	switch {
	case errors.Is(err, ErrUserExists):
		e.writeJSON(w, http.StatusConflict, controlError{err.Error()})
		return
	case err != nil:
		e.writeJSON(w, http.StatusBadRequest, controlError{err.Error()})
		return
	}
	var out StateUser
	e.mu.RLock()
	if u := e.dir.user(in.Name); u != nil { // nil only if a concurrent request deleted it already
		out = stateUser(u)
	}
	e.mu.RUnlock()
	e.writeJSON(w, http.StatusCreated, &out)
}

// decodeStrict decodes a control body, refusing unknown fields so typos in test setups surface.
func decodeStrict(r *http.Request, v any) error {
	if r.Body == nil {
		return errors.New("empty body")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("bad JSON body: " + err.Error())
	}
	if dec.More() {
		return errors.New("bad JSON body: trailing data")
	}
	return nil
}
