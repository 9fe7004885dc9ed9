package query

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// listHandler is a ResourceHandler whose GetAll records the AST elimity
// hands over and what Translate makes of it.
type listHandler struct {
	s  Schema
	mu sync.Mutex
	// calls holds one entry per GetAll with a filter.
	calls []translated
}

type translated struct {
	expr   filter.Expression
	filter store.Filter
	err    error
}

var errNotImplemented = scimerrors.ScimError{Status: http.StatusNotImplemented, Detail: "not implemented in this test"}

func (h *listHandler) Create(*http.Request, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, errNotImplemented
}
func (h *listHandler) Get(*http.Request, string) (scim.Resource, error) {
	return scim.Resource{}, errNotImplemented
}
func (h *listHandler) Replace(*http.Request, string, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, errNotImplemented
}
func (h *listHandler) Delete(*http.Request, string) error { return errNotImplemented }
func (h *listHandler) Patch(*http.Request, string, []scim.PatchOperation) (scim.Resource, error) {
	return scim.Resource{}, errNotImplemented
}

func (h *listHandler) GetAll(_ *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	if params.FilterValidator == nil {
		return scim.Page{Resources: []scim.Resource{}}, nil
	}
	expr := params.FilterValidator.GetFilter()
	f, err := Translate(expr, h.s)
	h.mu.Lock()
	h.calls = append(h.calls, translated{expr: expr, filter: f, err: err})
	h.mu.Unlock()
	if err != nil {
		return scim.Page{}, err
	}
	return scim.Page{Resources: []scim.Resource{}}, nil
}

func (h *listHandler) take() []translated {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls
	h.calls = nil
	return c
}

// prepareFilter is the workaround the scim layer needs in front of elimity:
// run Prepare on the filter parameter before the library parses it.
func prepareFilter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("filter") {
			text, err := Prepare(q.Get("filter"))
			if err != nil {
				var se scimerrors.ScimError
				errors.As(err, &se)
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(se.Status)
				_ = json.NewEncoder(w).Encode(se)
				return
			}
			q.Set("filter", text)
			r.URL.RawQuery = q.Encode()
		}
		next.ServeHTTP(w, r)
	})
}

type elimityServer struct {
	url           string
	users, groups *listHandler
}

func newElimityServer(t *testing.T, wrap func(http.Handler) http.Handler) elimityServer {
	t.Helper()
	users := &listHandler{s: Schema{Kind: store.KindUser, Core: schema.CoreUserSchema(), Extensions: []schema.Schema{schema.ExtensionEnterpriseUser()}}}
	groups := &listHandler{s: Schema{Kind: store.KindGroup, Core: schema.CoreGroupSchema()}}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportFiltering: true, MaxResults: 100},
		ResourceTypes: []scim.ResourceType{
			{Name: "User", Endpoint: "/Users", Schema: users.s.Core, Handler: users,
				SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}},
			{Name: "Group", Endpoint: "/Groups", Schema: groups.s.Core, Handler: groups},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return elimityServer{url: ts.URL, users: users, groups: groups}
}

type listResult struct {
	status int
	body   string
	calls  []translated
}

// get sends GET endpoint?rawQuery and returns the status, body and what the
// handler saw. rawQuery is sent as is, so tests control the encoding.
func (s elimityServer) get(t *testing.T, endpoint, rawQuery string) listResult {
	t.Helper()
	resp, err := http.Get(s.url + endpoint + "?" + rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := s.users
	if strings.HasPrefix(endpoint, "/Groups") {
		h = s.groups
	}
	return listResult{status: resp.StatusCode, body: string(body), calls: h.take()}
}

func filterQuery(f string) string { return "filter=" + url.QueryEscape(f) }

// TestElimityServer sends the IdP filters through a real elimity server and
// records which ones reach the handler (and translate) and which elimity
// rejects with 400 before our code runs, with and without Prepare in front.
func TestElimityServer(t *testing.T) {
	const (
		passes   = "passes"   // elimity calls GetAll and Translate succeeds
		rejected = "rejected" // elimity answers 400 before GetAll
		ours400  = "ours400"  // elimity calls GetAll, Translate refuses
	)
	cases := []struct {
		name, endpoint, rawQuery string
		bare, prepared           string // outcome without / with Prepare in front
	}{
		{"okta userName", "/Users", filterQuery(`userName eq "test.user@okta.local"`), passes, passes},
		{"pingone Eq", "/Users", filterQuery(`userName Eq "x"`), passes, passes},
		{"pingone username", "/Users", filterQuery(`username eq "X"`), passes, passes},
		{"externalId", "/Users", filterQuery(`externalId eq "abc"`), passes, passes},
		{"group displayName", "/Groups", filterQuery(`displayName eq "Group"`), passes, passes},
		{"postman DisplayName", "/Users", filterQuery(`DisplayName eq "BobIsAmazing"`), passes, passes},
		{"entra value path sub-attribute", "/Users", filterQuery(`emails[type eq "work"].value eq "a@b.c"`), rejected, passes},
		{"emails.value co", "/Users", filterQuery(`emails.value co "example.com"`), passes, passes},
		{"postman grouped or", "/Users", filterQuery(`name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")`), passes, passes},
		{"userName sw", "/Users", filterQuery(`userName sw "O"`), passes, passes},
		{"meta.Created", "/Users", filterQuery(`meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`), passes, passes},
		{"meta.lastModified", "/Users", filterQuery(`meta.lastModified gt "2011-05-13T04:42:34Z"`), passes, passes},
		{"members eq", "/Groups", filterQuery(`members eq "id"`), passes, passes},
		{"not active", "/Users", filterQuery(`not (active eq true)`), passes, passes},
		{"title pr", "/Users", filterQuery(`title pr`), passes, passes},
		{"enterprise employeeNumber", "/Users", filterQuery(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`), passes, passes},
		// Encodings the MS validator and others use.
		{"validator plus encoding", "/Users", `filter=userName+eq+"nickolas.bernhard%40robelweber.info"`, passes, passes},
		{"percent-20 and raw quotes", "/Users", `filter=userName%20eq%20"a%40b.c"`, passes, passes},
		{"entra excludedAttributes", "/Groups", `excludedAttributes=members&filter=displayName+eq+%22UXVRVLCYWQAD%22`, passes, passes},
		// Postman "garbage" tests with unquoted values.
		{"postman unquoted grouped or", "/Users", filterQuery(`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`), rejected, passes},
		{"postman unquoted sw", "/Users", filterQuery(`userName sw O`), rejected, passes},
		{"postman unquoted meta.Created", "/Users", filterQuery(`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`), rejected, passes},
		{"old entra unquoted externalId", "/Users", filterQuery(`externalId eq jyoung`), rejected, passes},
		{"lower-case unicode escape", "/Users", filterQuery(`userName eq "caf\u00e9"`), rejected, passes},
		// Limits of elimity's validation that no rewrite fixes.
		{"core and extension mixed", "/Users", filterQuery(`userName eq "x" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`), rejected, rejected},
		{"extension URN in other case", "/Users", filterQuery(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeeNumber eq "1"`), rejected, rejected},
		{"three comparisons in brackets", "/Users", filterQuery(`emails[type eq "work" and value co "x" and primary eq true]`), rejected, rejected},
		// Filters elimity lets through that Translate refuses.
		{"unknown sub-attribute in brackets", "/Users", filterQuery(`emails[nosuch eq "x"]`), ours400, ours400},
		{"password probe", "/Users", filterQuery(`password sw "a"`), ours400, ours400},
		{"meta.version", "/Users", filterQuery(`meta.version eq "1"`), ours400, ours400},
		{"string for boolean", "/Users", filterQuery(`active eq "yes"`), ours400, ours400},
		{"null compare", "/Users", filterQuery(`title eq null`), ours400, ours400},
	}
	bare := newElimityServer(t, nil)
	prepared := newElimityServer(t, prepareFilter)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, run := range []struct {
				label string
				srv   elimityServer
				want  string
			}{{"without Prepare", bare, tc.bare}, {"with Prepare", prepared, tc.prepared}} {
				res := run.srv.get(t, tc.endpoint, tc.rawQuery)
				switch run.want {
				case passes:
					if res.status != http.StatusOK || len(res.calls) != 1 || res.calls[0].err != nil || res.calls[0].filter == nil {
						t.Errorf("%s: status %d, calls %+v, body %s; want 200 with a translated filter", run.label, res.status, res.calls, res.body)
					}
				case rejected:
					if res.status != http.StatusBadRequest || len(res.calls) != 0 || !strings.Contains(res.body, `"invalidFilter"`) {
						t.Errorf("%s: status %d, %d handler calls, body %s; want 400 invalidFilter before the handler", run.label, res.status, len(res.calls), res.body)
					}
				case ours400:
					if res.status != http.StatusBadRequest || len(res.calls) != 1 || res.calls[0].err == nil {
						t.Errorf("%s: status %d, calls %+v; want the handler to refuse with 400", run.label, res.status, res.calls)
						break
					}
					var se scimerrors.ScimError
					errors.As(res.calls[0].err, &se)
					if detail, _ := json.Marshal(se.Detail); !strings.Contains(res.body, string(detail)) {
						t.Errorf("%s: body %s lacks our detail %s", run.label, res.body, detail)
					}
				}
			}
		})
	}
}

// TestElimityASTMatchesParse checks that what elimity hands the handler
// translates to the same filter Parse builds from the text.
func TestElimityASTMatchesParse(t *testing.T) {
	srv := newElimityServer(t, prepareFilter)
	for _, f := range []string{
		`userName eq "test.user@okta.local"`,
		`emails[type eq "work"].value eq "a@b.c"`,
		`name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")`,
		`meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`,
		`not (active eq true)`,
		`userName eq "a \"quoted\" name"`,
	} {
		res := srv.get(t, "/Users", filterQuery(f))
		if len(res.calls) != 1 || res.calls[0].err != nil {
			t.Errorf("%q: status %d calls %+v", f, res.status, res.calls)
			continue
		}
		want, err := Parse(f, srv.users.s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", f, err)
		}
		if diff := cmp.Diff(want, res.calls[0].filter); diff != "" {
			t.Errorf("%q: server vs Parse (-Parse +server):\n%s", f, diff)
		}
	}
}

// TestElimityTrailingSlash documents that elimity routes `/Users/?filter=`
// (Postman) to Get with an empty id, not to GetAll.
func TestElimityTrailingSlash(t *testing.T) {
	srv := newElimityServer(t, nil)
	res := srv.get(t, "/Users/", `filter=DisplayName+eq+%22BobIsAmazing%22`)
	if res.status != http.StatusNotImplemented || len(res.calls) != 0 {
		t.Errorf("GET /Users/?filter= status %d, %d GetAll calls; want Get (501 here) and no GetAll", res.status, len(res.calls))
	}
}
