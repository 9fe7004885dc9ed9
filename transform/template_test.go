package transform

import (
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	user := entraUser()
	user["n"] = int64(5)
	user["nick"] = "  "
	tests := []struct {
		src        string
		want       string
		compileErr string
		execErr    string
	}{
		{src: "{{.name.givenName}} {{.name.familyName}}", want: "Noemie Hoppe"},
		{src: "{{.name.givenName}} {{.name.middleName}}", want: "Noemie"}, // trimmed, no "<no value>"
		{src: "{{.missing.deeper.still}}", want: ""},
		{src: "{{.Name.GivenName | upper}}", want: "NOEMIE"},
		{src: "{{.userName | lower | strip_domain}}", want: "noemie.hoppe"},
		{src: "{{trim .nick}}x", want: "x"},
		{src: "{{coalesce .nick .nickName .name.givenName}}", want: "Noemie"},
		{src: "{{coalesce .nick}}", want: ""},
		{src: "{{range .emails}}{{if .primary}}{{.value}}{{end}}{{end}}", want: "noemie.hoppe@schaefer.us"},
		{src: "{{range $i, $e := .phoneNumbers}}{{$i}}={{$e.type}};{{end}}", want: "0=work;1=mobile;"},
		{src: "{{range .nothing}}x{{else}}none{{end}}", want: "none"},
		{src: "{{range .n}}x{{end}}y", want: "y"}, // a number is not walked
		{src: "{{$n := 5}}{{range $n}}x{{end}}y", want: "y"},
		{src: "{{range .}}{{end}}ok", want: "ok"},
		{src: `{{attr . "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"}}`, want: "2c2f6fb8"},
		{src: `{{attr . "emails[type eq \"work\"].value"}}`, want: "noemie.hoppe@schaefer.us"},
		{src: `{{(attr . "name").givenName}}`, want: "Noemie"},
		{src: `{{with .name}}{{.formatted}}{{end}}`, want: "Noemie Hoppe"},
		{src: `{{$.userName}}`, want: "Noemie.Hoppe@schaefer.us"},
		{src: `{{$x := .name}}{{$x.familyName}}`, want: "Hoppe"},
		{src: `{{if and .active (eq .title "Engineer")}}yes{{end}}`, want: "yes"},
		{src: `{{if not .missing}}absent{{end}}`, want: "absent"},
		{src: `{{if ne .title "x"}}{{len .emails}}{{end}}`, want: "2"},
		{src: "{{/* a comment */}}c", want: "c"},
		{src: "{{range .emails}}{{break}}{{end}}b", want: "b"},

		{src: "", compileErr: "empty template"},
		{src: "{{.name", compileErr: "unclosed action"},
		{src: `{{printf "%*d" 1000000000 1}}`, compileErr: `function "printf" is not allowed`},
		{src: `{{call .x}}`, compileErr: `function "call" is not allowed`},
		{src: `{{index .emails 0}}`, compileErr: `function "index" is not allowed`},
		{src: `{{_items . ""}}`, compileErr: `function "_items" is not allowed`},
		{src: `{{nosuch}}`, compileErr: `function "nosuch" not defined`},
		{src: `{{define "a"}}x{{end}}`, compileErr: "define and block are not allowed"},
		{src: `{{block "b" .}}x{{end}}`, compileErr: "define and block are not allowed"},
		{src: `{{template "x"}}`, compileErr: "{{template}} is not allowed"},
		{src: `{{range 1000000000}}x{{end}}`, compileErr: "range takes one attribute"},
		{src: `{{range len .emails}}x{{end}}`, compileErr: "range takes one attribute"},
		{src: `{{.name.givenName "arg"}}`, compileErr: "is an attribute and takes no arguments"},

		{src: `{{lower .emails}}`, execErr: "want text, got a []interface {}"},
		{src: `{{attr . "bad path["}}`, execErr: `attr "bad path["`},
		{src: "{{range .emails}}{{range $.emails}}x{{end}}{{end}}", compileErr: "range inside range is not allowed"},
		{src: "{{range .emails}}{{if .primary}}{{range .x}}{{end}}{{end}}{{end}}", compileErr: "range inside range is not allowed"},
		{src: "{{range .emails}}{{else}}{{range .x}}{{end}}{{end}}ok", want: "ok"}, // else runs outside the loop
		{src: strings.Repeat("x", 4097), execErr: "template output exceeds 4096 bytes"},
		{src: "{{range .emails}}" + strings.Repeat("y", 2049) + "{{end}}", execErr: "template output exceeds 4096 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			tm, err := compileTemplate(tc.src)
			if tc.compileErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.compileErr) {
					t.Fatalf("compile = %v, want error containing %q", err, tc.compileErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := tm.exec(user)
			if tc.execErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.execErr) {
					t.Fatalf("exec = %q, %v; want error containing %q", got, err, tc.execErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("exec = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// A compiled template is shared by concurrent Account calls.
func TestTemplateConcurrentUse(t *testing.T) {
	tm, err := compileTemplate("{{.name.givenName}}-{{range .emails}}{{.value}}{{end}}")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 8)
	for range 8 {
		go func() {
			out, err := tm.exec(entraUser())
			if err != nil {
				out = err.Error()
			}
			done <- out
		}()
	}
	for range 8 {
		if got := <-done; got != "Noemie-proxy@schaefer.usnoemie.hoppe@schaefer.us" {
			t.Fatalf("exec = %q", got)
		}
	}
}
