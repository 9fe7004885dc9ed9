package scim

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/store"
)

// errPreconditionFailed is returned inside an update closure when the
// client's If-Match does not name the current version.
var errPreconditionFailed = scimerrors.ScimError{
	Status: http.StatusPreconditionFailed,
	Detail: "The resource has changed: If-Match does not match its current version (meta.version).",
}

// toSCIMError is the single translation point from store and internal
// errors to SCIM errors (returned as values, which is what elimity's
// errors.As looks for). Anything unexpected is logged and becomes a 500 that
// carries no internal text.
func toSCIMError(ctx context.Context, log *slog.Logger, err error, id string) error {
	var se scimerrors.ScimError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, store.ErrNotFound):
		return scimerrors.ScimErrorResourceNotFound(id)
	case errors.Is(err, store.ErrConflict):
		return scimerrors.ScimError{
			Status:   http.StatusConflict,
			ScimType: scimerrors.ScimTypeUniqueness,
			Detail:   "userName (of a User) or displayName (of a Group) is taken in this tenant; both are unique regardless of case.",
		}
	case errors.Is(err, store.ErrInvalidMember):
		return scimerrors.ScimError{
			Status:   http.StatusBadRequest,
			ScimType: scimerrors.ScimTypeInvalidValue,
			Detail:   "members: every value must be the id of an existing User or Group of this tenant (and a group cannot contain itself).",
		}
	case errors.Is(err, store.ErrUnsupportedFilter):
		return scimerrors.ScimErrorInvalidFilter
	}
	log.ErrorContext(ctx, "scim request failed", "err", err)
	return scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "Internal error."}
}

// writeError writes a SCIM error body with the given status.
func writeError(w http.ResponseWriter, status int, scimType scimerrors.ScimType, detail string) {
	body, _ := json.Marshal(scimerrors.ScimError{Status: status, ScimType: scimType, Detail: detail})
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
