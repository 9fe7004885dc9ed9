// Command lookupstub is the baseline of the SCIM lookup benchmark: it answers
// scimload's requests for one tenant ("okta") with canned, SCIM-shaped bodies
// through plain net/http (no auth, no store, no logging), so scimload run
// against it measures what the HTTP stack and the load tool alone cost on
// this machine (BENCHMARKS.md, issue 2).
//
//	lookupstub --addr 127.0.0.1:18382 &
//	scimload --url http://127.0.0.1:18382/scim/v2/okta --token t --ops get-by-filter --group-members 0 --clients 16
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18382", "listen address (loopback)")
	users := flag.Int("users", 100000, "users the stub claims to hold")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: handler(*users), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func handler(users int) http.Handler {
	// A lookup's answer is about as long as scimbridge's for an Okta user.
	pad := strings.Repeat("x", 700)
	mux := http.NewServeMux()
	mux.HandleFunc("/scim/v2/okta/Users", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/scim+json")
		if f := q.Get("filter"); f != "" {
			name := strings.TrimSuffix(strings.TrimPrefix(f, `userName eq "`), `"`)
			b := make([]byte, 0, 1200)
			b = append(b, `{"Resources":[{"id":"0f7c3d2e-1111-2222-3333-444455556666","userName":`...)
			b = strconv.AppendQuote(b, name)
			b = append(b, `,"pad":"`...)
			b = append(b, pad...)
			b = append(b, `"}],"itemsPerPage":1,"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"startIndex":1,"totalResults":1}`...)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
			return
		}
		if q.Get("count") == "0" {
			fmt.Fprintf(w, `{"totalResults":%d,"Resources":[]}`, users)
			return
		}
		start, _ := strconv.Atoi(q.Get("startIndex"))
		n, _ := strconv.Atoi(q.Get("count"))
		n = max(0, min(n, 500))
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"totalResults":%d,"Resources":[`, users)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"id":"id%d","userName":"u%d"}`, start+i, start+i)
		}
		sb.WriteString(`]}`)
		_, _ = w.Write([]byte(sb.String()))
	})
	mux.HandleFunc("/scim/v2/okta/Groups", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"g1"}`))
	})
	return mux
}
