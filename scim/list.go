package scim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/store"
)

// serveList answers GET /Users and GET /Groups (RFC 7644 section 3.4.2)
// here rather than in elimity: the IdPs' lookup-before-create is the hot
// path, elimity parses every filter with a slow general parser, rejects
// forms IdPs send (query.Prepare rewrites them), reports itemsPerPage as the
// requested count instead of the page size, and may emit "Resources": null,
// which breaks Entra's connection test.
//
// q is the request's query string, already parsed (and found valid) by
// ServeHTTP.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, q url.Values, ts *tenantService, endpoint string) {
	// One of two filters (or counts) would be dropped silently, and an
	// IdP's exists-check could then match the wrong account.
	for _, p := range []string{"filter", "count", "startIndex"} {
		if len(q[p]) > 1 {
			t := scimerrors.ScimTypeInvalidValue
			if p == "filter" {
				t = scimerrors.ScimTypeInvalidFilter
			}
			writeError(w, http.StatusBadRequest, t, p+" is given more than once.")
			return
		}
	}
	count, err := intParam(q.Get("count"), s.maxPage)
	if err != nil {
		writeError(w, http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "count must be an integer.")
		return
	}
	count = min(max(count, 0), s.maxPage)
	startIndex, err := intParam(q.Get("startIndex"), 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "startIndex must be an integer.")
		return
	}
	startIndex = max(startIndex, 1)
	s.writeList(w, r, ts, endpoint, q.Get("filter"), startIndex, count, parseProjection(q))
}

// writeList answers a list read (GET or POST .search) with a ListResponse;
// startIndex and count are already clamped (1-based, 0..maxPage).
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, ts *tenantService, endpoint, filter string,
	startIndex, count int, proj projection) {
	qs := ts.users.query
	rt, base := "User", ts.users.links.base+"/Users/"
	if endpoint == "Groups" {
		qs, rt, base = ts.groups.query, "Group", ts.groups.links.base+"/Groups/"
	}
	var (
		f   store.Filter
		err error
	)
	if strings.TrimSpace(filter) != "" {
		if f, err = query.Parse(filter, qs); err != nil {
			writeSCIMError(w, err)
			return
		}
	}
	schemas := []string{qs.Core.ID}
	for _, e := range qs.Extensions {
		schemas = append(schemas, e.ID)
	}
	// The ListResponse as encoding/json writes the map of its members
	// (keys sorted), by hand (appendValue; appendUser for users as every
	// IdP reads them, without a projection).
	body := make([]byte, 0, 1024)
	body = append(body, `{"Resources":[`...)
	var n, total int
	if endpoint != "Groups" && proj.include == nil && proj.exclude == nil {
		var (
			users []store.User
			done  bool
		)
		if !ts.users.alwaysName {
			// The stored attributes copied as they are, where appendUserRaw
			// vouches for every user of the page; else the page read again,
			// decoded.
			if users, total, err = ts.users.listStore(r, f, startIndex, count, true); err != nil {
				writeSCIMError(w, err)
				return
			}
			done = true
			for i, u := range users {
				if i > 0 {
					body = append(body, ',')
				}
				// A user the store hands out with a Memo is rendered once
				// per version: the same Memo means the same data, and base
				// (the tenant's URL) is all else the JSON depends on here.
				if m, ok := u.Memo.Get(base); ok {
					body = append(body, m...)
					continue
				}
				start := len(body)
				if body, done = ts.users.appendUserRaw(body, u, base, schemas); !done {
					body = append(body[:0], `{"Resources":[`...)
					break
				}
				if u.Memo != nil {
					u.Memo.Put(base, slices.Clone(body[start:]))
				}
			}
		}
		if !done {
			if users, total, err = ts.users.listStore(r, f, startIndex, count, false); err != nil {
				writeSCIMError(w, err)
				return
			}
			for i, u := range users {
				if i > 0 {
					body = append(body, ',')
				}
				if body, err = ts.users.appendUser(body, u, base, schemas); err != nil {
					break
				}
			}
		}
		n = len(users)
	} else {
		var page scim.Page
		if endpoint == "Groups" {
			page, err = ts.groups.list(r, f, startIndex, count, proj)
		} else {
			page, err = ts.users.list(r, f, startIndex, count, proj)
		}
		if err != nil {
			writeSCIMError(w, err)
			return
		}
		n, total = len(page.Resources), page.TotalResults
		for i, res := range page.Resources {
			if i > 0 {
				body = append(body, ',')
			}
			if body, err = appendMap(body, resourceJSON(res, rt, base, schemas)); err != nil {
				break
			}
		}
	}
	if err == nil {
		body = append(body, `],"itemsPerPage":`...)
		body = strconv.AppendInt(body, int64(n), 10)
		body = append(body, `,"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"startIndex":`...)
		body = strconv.AppendInt(body, int64(startIndex), 10)
		body = append(body, `,"totalResults":`...)
		body = strconv.AppendInt(body, int64(total), 10)
		body = append(body, '}')
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "encode list response", "err", err)
		writeError(w, http.StatusInternalServerError, "", "Internal error.")
		return
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// searchRequest is the body of POST /Users/.search and /Groups/.search
// (RFC 7644 section 3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
}

const searchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// serveSearch answers POST /.search on a resource endpoint exactly as the
// GET list answers the same parameters (same filter forms, itemsPerPage the
// page size, errors with a scimType): elimity answered itemsPerPage with the
// requested count, refused the IdPs' filter forms that query.Parse accepts
// (`emails[type eq "work"].value eq ...`) and sent errors without a scimType.
// body is valid JSON (checked by ServeHTTP).
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, ts *tenantService, endpoint string, body []byte) {
	var sr searchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		writeError(w, http.StatusBadRequest, scimerrors.ScimTypeInvalidValue,
			"The search request is not a SearchRequest object: attributes and excludedAttributes are lists of strings, filter a string, startIndex and count integers.")
		return
	}
	if !slices.Contains(sr.Schemas, searchRequestSchema) {
		writeError(w, http.StatusBadRequest, scimerrors.ScimTypeInvalidValue,
			"schemas must contain "+searchRequestSchema+".")
		return
	}
	count, startIndex := s.maxPage, 1
	if sr.Count != nil {
		count = min(max(*sr.Count, 0), s.maxPage)
	}
	if sr.StartIndex != nil {
		startIndex = max(*sr.StartIndex, 1)
	}
	include, exclude := strings.Join(sr.Attributes, ","), strings.Join(sr.ExcludedAttributes, ",")
	for param, list := range map[string]string{"attributes": include, "excludedAttributes": exclude} {
		if err := attrNamesLimit(param, list); err != nil {
			writeSCIMError(w, err)
			return
		}
	}
	proj := projection{
		include: parseAttrList(include),
		exclude: parseAttrList(exclude),
	}
	s.writeList(w, r, ts, endpoint, sr.Filter, startIndex, count, proj)
}

func intParam(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(strings.TrimSpace(v))
}

// resourceJSON renders a resource the way elimity renders single
// resources, so list and single reads look the same.
func resourceJSON(res scim.Resource, resourceType, base string, schemas []string) map[string]any {
	out := make(map[string]any, len(res.Attributes)+4)
	for k, v := range res.Attributes {
		out[k] = v
	}
	out["id"] = res.ID
	if res.ExternalID.Present() {
		out["externalId"] = res.ExternalID.Value()
	}
	out["schemas"] = schemas
	m := map[string]any{"resourceType": resourceType, "location": base + res.ID}
	if res.Meta.Created != nil {
		m["created"] = res.Meta.Created.Format(time.RFC3339)
	}
	if res.Meta.LastModified != nil {
		m["lastModified"] = res.Meta.LastModified.Format(time.RFC3339)
	}
	if res.Meta.Version != "" {
		m["version"] = res.Meta.Version
	}
	out["meta"] = m
	return out
}

// writeSCIMError writes an error returned by a handler (a ScimError value
// after toSCIMError or query's own errors).
func writeSCIMError(w http.ResponseWriter, err error) {
	se := scimerrors.CheckScimError(err, http.MethodGet)
	if se.Status == http.StatusInternalServerError {
		se.Detail = "Internal error."
	}
	writeError(w, se.Status, se.ScimType, se.Detail)
}
