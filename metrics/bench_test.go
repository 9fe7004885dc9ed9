package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/metrics"
)

// BenchmarkSCIMMiddleware is the cost the middleware adds to each SCIM
// request (labels derived from the path, one counter, one histogram).
func BenchmarkSCIMMiddleware(b *testing.B) {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.Options{Tenants: []string{"okta"}})
	if err != nil {
		b.Fatal(err)
	}
	h := m.SCIM(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	req := httptest.NewRequest(http.MethodGet, "/scim/v2/okta/Users/2819c223-7f76-453a-919d-413861904646", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
