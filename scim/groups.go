package scim

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/patch"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/store"
)

// groupHandler serves /Groups of one tenant on top of the store.
type groupHandler struct {
	st        Store
	tenant    string
	links     links
	log       *slog.Logger
	noContent bool
	patch     patch.Schema
	query     query.Schema
	// valueCaseExact is members.value's caseExact (applyMemberOps).
	valueCaseExact bool
	// delta is st when it can apply a membership change as a delta
	// (Patch); nil otherwise.
	delta memberPatcher
}

// memberPatcher applies a membership change without reading and rewriting
// the whole member list inside the store's writer (store/sqlite has it): for
// a PATCH of a few members of a 1000-member group, that read and the diff
// were a quarter of the writer's time. check gets the group without its
// members; add, remove and removeFold are as memberDelta returns them.
type memberPatcher interface {
	PatchGroupMembers(ctx context.Context, tenant, id string, check func(store.Group) error,
		add, remove, removeFold []string, withMembers bool) (store.Group, error)
}

var _ scim.ResourceSearcher = (*groupHandler)(nil)

func (h *groupHandler) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	g := store.Group{Tenant: h.tenant}
	if err := groupFromAttributes(&g, attrs); err != nil {
		return scim.Resource{}, err
	}
	created, err := h.st.CreateGroup(r.Context(), g)
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, "")
	}
	return h.written(r, created), nil
}

// written renders the group a write returned: the store fills in the
// members' Kind and Display as a read would, so no second read (of every
// member) is needed.
func (h *groupHandler) written(r *http.Request, g store.Group) scim.Resource {
	proj := parseProjection(r.URL.Query())
	return h.links.groupResource(g, proj.wants(attrMembers), proj)
}

func (h *groupHandler) Get(r *http.Request, id string) (scim.Resource, error) {
	proj := parseProjection(r.URL.Query())
	withMembers := proj.wants(attrMembers)
	g, err := h.st.GetGroup(r.Context(), h.tenant, id, withMembers)
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
	}
	return h.links.groupResource(g, withMembers, proj), nil
}

func (h *groupHandler) GetAll(r *http.Request, p scim.ListRequestParams) (scim.Page, error) {
	var f store.Filter
	if p.FilterValidator != nil {
		var err error
		if f, err = query.Translate(p.FilterValidator.GetFilter(), h.query); err != nil {
			return scim.Page{}, err
		}
	}
	return h.list(r, f, p.StartIndex, p.Count, parseProjection(r.URL.Query()))
}

// Search serves POST /Groups/.search.
func (h *groupHandler) Search(r *http.Request, p scim.SearchParams) (scim.Page, error) {
	var f store.Filter
	if p.Filter != "" {
		var err error
		if f, err = query.Parse(p.Filter, h.query); err != nil {
			return scim.Page{}, err
		}
	}
	return h.list(r, f, p.StartIndex, p.Count, searchProjection(p))
}

func (h *groupHandler) list(r *http.Request, f store.Filter, startIndex, count int, proj projection) (scim.Page, error) {
	withMembers := proj.wants(attrMembers)
	groups, total, err := h.st.ListGroups(r.Context(), h.tenant, store.Query{
		Filter: f, Offset: startIndex - 1, Limit: count, WithMembers: withMembers,
	})
	if err != nil {
		return scim.Page{}, toSCIMError(r.Context(), h.log, err, "")
	}
	page := scim.Page{TotalResults: total, Resources: make([]scim.Resource, 0, len(groups))}
	for _, g := range groups {
		page.Resources = append(page.Resources, h.links.groupResource(g, withMembers, proj))
	}
	return page, nil
}

func (h *groupHandler) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	ifMatch := r.Header.Get("If-Match")
	g, err := h.st.UpdateGroup(r.Context(), h.tenant, id, func(g *store.Group) error {
		if !etagMatches(ifMatch, g.Version) {
			return errPreconditionFailed
		}
		return groupFromAttributes(g, attrs)
	})
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
	}
	return h.written(r, g), nil
}

func (h *groupHandler) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	ifMatch := r.Header.Get("If-Match")
	if mops, ok := memberOps(ops); ok && h.delta != nil {
		add, remove, removeFold := memberDelta(mops, h.valueCaseExact)
		withMembers := !h.noContent && parseProjection(r.URL.Query()).wants(attrMembers)
		g, err := h.delta.PatchGroupMembers(r.Context(), h.tenant, id, func(g store.Group) error {
			if !etagMatches(ifMatch, g.Version) {
				return errPreconditionFailed
			}
			return nil
		}, add, remove, removeFold, withMembers)
		if err != nil {
			return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
		}
		if h.noContent {
			return scim.Resource{}, nil
		}
		return h.written(r, g), nil
	}
	g, err := h.st.UpdateGroup(r.Context(), h.tenant, id, func(g *store.Group) error {
		if !etagMatches(ifMatch, g.Version) {
			return errPreconditionFailed
		}
		if applyMemberOps(g, ops, h.valueCaseExact) {
			return nil
		}
		out, err := patch.Apply(groupAttributes(*g), ops, h.patch)
		if err != nil {
			return err
		}
		return groupFromAttributes(g, out)
	})
	if err != nil {
		return scim.Resource{}, toSCIMError(r.Context(), h.log, err, id)
	}
	if h.noContent {
		return scim.Resource{}, nil
	}
	return h.written(r, g), nil
}

func (h *groupHandler) Delete(r *http.Request, id string) error {
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" {
		g, err := h.st.GetGroup(r.Context(), h.tenant, id, false)
		if err != nil {
			return toSCIMError(r.Context(), h.log, err, id)
		}
		if !etagMatches(ifMatch, g.Version) {
			return errPreconditionFailed
		}
	}
	if err := h.st.DeleteGroup(r.Context(), h.tenant, id); err != nil {
		return toSCIMError(r.Context(), h.log, err, id)
	}
	return nil
}
