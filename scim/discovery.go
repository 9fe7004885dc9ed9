package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// serveDiscovery answers GET /Schemas, /ResourceTypes and one of their
// resources from elimity's rendering, corrected where elimity strays from
// RFC 7644 section 4 and RFC 7643 sections 6 and 7:
//   - query parameters such as pagination "SHALL be ignored", so every
//     resource is listed whatever startIndex and count say, and itemsPerPage
//     is the number listed (elimity echoed the requested count, or 500);
//   - each resource carries meta.resourceType ("Schema" or "ResourceType")
//     and meta.location, as the RFCs' examples do.
//
// A filter was refused before (403).
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, ts *tenantService, segs []string, path string) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath, r2.URL.RawQuery = path, "", ""
	rec := &bufferedWriter{header: http.Header{}}
	ts.elimity.ServeHTTP(rec, r2)
	var doc map[string]any
	if rec.status != http.StatusOK || json.Unmarshal(rec.buf.Bytes(), &doc) != nil {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.buf.Bytes())
		return
	}
	resourceType := "Schema"
	if segs[0] == "ResourceTypes" {
		resourceType = "ResourceType"
	}
	base := ts.users.links.base + "/" + segs[0] + "/"
	addMeta := func(res any) {
		m, ok := res.(map[string]any)
		if !ok {
			return
		}
		id, _ := m["id"].(string)
		if _, has := m["meta"]; !has && id != "" {
			m["meta"] = map[string]any{"resourceType": resourceType, "location": base + url.PathEscape(id)}
		}
	}
	if len(segs) == 1 {
		list, _ := doc["Resources"].([]any)
		for _, res := range list {
			addMeta(res)
		}
		if list == nil {
			list = []any{}
		}
		doc["Resources"] = list
		doc["totalResults"], doc["itemsPerPage"], doc["startIndex"] = len(list), len(list), 1
	} else {
		addMeta(doc)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		s.log.ErrorContext(r.Context(), "encode discovery response", "err", err)
		writeError(w, http.StatusInternalServerError, "", "Internal error.")
		return
	}
	body := bytes.TrimRight(buf.Bytes(), "\n")
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
