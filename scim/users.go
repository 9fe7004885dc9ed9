package scim

import (
	"log/slog"
	"net/http"

	"github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/patch"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/store"
)

// userHandler serves /Users of one tenant on top of the store.
type userHandler struct {
	st     Store
	tenant string
	links  links
	log    *slog.Logger
	// alwaysName returns name.givenName/familyName even when empty (preset quirk).
	alwaysName bool
	patch      patch.Schema
	query      query.Schema
	// plain are the attributes PATCHed without elimity (userPatchOps).
	plain plainAttrs
}

var _ scim.ResourceSearcher = (*userHandler)(nil)

func (h *userHandler) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	// RFC 7643 leaves an absent `active` to the provider: a pushed user is
	// active unless told otherwise.
	u := store.User{Tenant: h.tenant, Active: true}
	if err := userFromAttributes(&u, attrs); err != nil {
		return scim.Resource{}, err
	}
	created, err := h.st.CreateUser(r.Context(), u)
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, "")
	}
	return h.resource(created, parseProjection(r.URL.Query())), nil
}

func (h *userHandler) Get(r *http.Request, id string) (scim.Resource, error) {
	u, err := h.st.GetUser(r.Context(), h.tenant, id)
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
	}
	return h.resource(u, parseProjection(r.URL.Query())), nil
}

func (h *userHandler) GetAll(r *http.Request, p scim.ListRequestParams) (scim.Page, error) {
	var f store.Filter
	if p.FilterValidator != nil {
		var err error
		if f, err = query.Translate(p.FilterValidator.GetFilter(), h.query); err != nil {
			return scim.Page{}, err
		}
	}
	return h.list(r, f, p.StartIndex, p.Count, parseProjection(r.URL.Query()))
}

// Search serves POST /Users/.search (RFC 7644 section 3.4.3).
func (h *userHandler) Search(r *http.Request, p scim.SearchParams) (scim.Page, error) {
	var f store.Filter
	if p.Filter != "" {
		var err error
		if f, err = query.Parse(p.Filter, h.query); err != nil {
			return scim.Page{}, err
		}
	}
	return h.list(r, f, p.StartIndex, p.Count, searchProjection(p))
}

func (h *userHandler) list(r *http.Request, f store.Filter, startIndex, count int, proj projection) (scim.Page, error) {
	users, total, err := h.listStore(r, f, startIndex, count, false)
	if err != nil {
		return scim.Page{}, err
	}
	page := scim.Page{TotalResults: total, Resources: make([]scim.Resource, 0, len(users))}
	for _, u := range users {
		page.Resources = append(page.Resources, h.resource(u, proj))
	}
	return page, nil
}

// listStore reads one page of users (with RawAttributes when raw);
// errors are SCIM errors.
func (h *userHandler) listStore(r *http.Request, f store.Filter, startIndex, count int, raw bool) ([]store.User, int, error) {
	users, total, err := h.st.ListUsers(r.Context(), h.tenant,
		store.Query{Filter: f, Offset: startIndex - 1, Limit: count, RawAttributes: raw})
	if err != nil {
		return nil, 0, toSCIMError(r.Context(), h.log, err, "")
	}
	return users, total, nil
}

func (h *userHandler) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	ifMatch := r.Header.Get("If-Match")
	u, err := h.st.UpdateUser(r.Context(), h.tenant, id, func(u *store.User) error {
		if !etagMatches(ifMatch, u.Version) {
			return errPreconditionFailed
		}
		return userFromAttributes(u, attrs)
	})
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
	}
	return h.resource(u, parseProjection(r.URL.Query())), nil
}

func (h *userHandler) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	ifMatch := r.Header.Get("If-Match")
	u, err := h.st.UpdateUser(r.Context(), h.tenant, id, func(u *store.User) error {
		if !etagMatches(ifMatch, u.Version) {
			return errPreconditionFailed
		}
		out, err := patch.Apply(userAttributes(*u), ops, h.patch)
		if err != nil {
			return err
		}
		return userFromAttributes(u, out)
	})
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
	}
	return h.resource(u, parseProjection(r.URL.Query())), nil
}

func (h *userHandler) Delete(r *http.Request, id string) error {
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" {
		// Unverified race: a change between this read and the delete is not
		// detected. IdPs do not send If-Match on DELETE; this serves admins' scripts.
		u, err := h.st.GetUser(r.Context(), h.tenant, id)
		if err != nil {
			return toSCIMError(r.Context(), h.log, err, id)
		}
		if !etagMatches(ifMatch, u.Version) {
			return errPreconditionFailed
		}
	}
	if err := h.st.DeleteUser(r.Context(), h.tenant, id); err != nil {
		return toSCIMError(r.Context(), h.log, err, id)
	}
	return nil
}

func (h *userHandler) resource(u store.User, proj projection) scim.Resource {
	if h.alwaysName {
		name, _ := u.Attributes["name"].(map[string]any)
		if name == nil || name["givenName"] == nil || name["familyName"] == nil {
			n := map[string]any{"givenName": "", "familyName": ""}
			for k, v := range name {
				n[k] = v
			}
			attrs := make(map[string]any, len(u.Attributes)+1)
			for k, v := range u.Attributes {
				attrs[k] = v
			}
			attrs["name"] = n
			u.Attributes = attrs
		}
	}
	return h.links.userResource(u, proj)
}
