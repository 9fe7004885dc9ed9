package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scimPrefix is where the SCIM server serves its tenants (scim.Prefix; not
// imported so that metrics does not depend on the SCIM layer).
const scimPrefix = "/scim/v2/"

// scimResources are the resource label values besides "other"; matched
// case-insensitively, like the SCIM server does.
var scimResources = []string{"Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig"}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// SCIM counts and times every request next answers. Wrap the whole SCIM
// server with it (not a router's Use, which misses unmatched paths), so
// 401s, 404s and unknown tenants count too. The tenant label is the path's
// tenant when it is configured, else "unknown"; resource is the segment
// after it (Users, Groups, Schemas, ResourceTypes, ServiceProviderConfig,
// else "other").
//
// The series of each label combination are looked up once and kept:
// WithLabelValues hashes and looks up every label per call, which was most
// of the middleware's cost. The labels are bounded (configured tenants, a
// fixed resource and method list, status codes), and so is the cache.
func (m *Metrics) SCIM(next http.Handler) http.Handler {
	var cache sync.Map // scimKey -> *scimSeries
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, resource := m.scimLabels(r.URL.Path)
		method := oneOf(r.Method, methods, "other")
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r)
		elapsed := time.Since(start)
		code := sw.status
		if code == 0 {
			code = http.StatusOK // nothing written: net/http answers 200
		}
		k := scimKey{tenant: tenant, resource: resource, method: method, code: code}
		v, ok := cache.Load(k)
		if !ok {
			v, _ = cache.LoadOrStore(k, &scimSeries{
				requests: m.scimRequests.WithLabelValues(tenant, resource, method, strconv.Itoa(code)),
				duration: m.scimDuration.WithLabelValues(tenant, resource, method),
			})
		}
		series := v.(*scimSeries)
		series.duration.Observe(elapsed.Seconds())
		series.requests.Inc()
	})
}

// scimKey is one combination of the SCIM metrics' labels.
type scimKey struct {
	tenant, resource, method string
	code                     int
}

// scimSeries are the series of one scimKey.
type scimSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// scimLabels derives the bounded labels from /scim/v2/{tenant}/{resource}/...
func (m *Metrics) scimLabels(path string) (tenant, resource string) {
	rest, ok := strings.CutPrefix(path, scimPrefix)
	if !ok {
		return "unknown", "other"
	}
	name, sub, _ := strings.Cut(rest, "/")
	seg, _, _ := strings.Cut(strings.TrimLeft(sub, "/"), "/")
	resource = "other"
	for _, r := range scimResources {
		if strings.EqualFold(seg, r) {
			resource = r
			break
		}
	}
	return m.tenantLabel(name), resource
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
