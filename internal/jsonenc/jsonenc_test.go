package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/jsonenc"
)

// reference is what encoding/json writes for s.
func reference(t testing.TB, s string, htmlSafe bool) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(htmlSafe)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

var seeds = []string{
	"", "plain", "ada@example.com", `quote" back\slash`, "\n\r\t\b\f\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "ünïcödé 日本", "\u2028\u2029", "bad \xff\xfe utf8", "\xed\xa0\x80",
	"trunc \xe2\x82", "emoji 🙂", strings.Repeat("é", 100),
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		for _, html := range []bool{false, true} {
			got := string(jsonenc.AppendString([]byte("x"), s, html))
			if want := "x" + reference(t, s, html); got != want {
				t.Errorf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	}
	if got, want := string(jsonenc.AppendString(nil, "<&>\b", true)), `"\u003c\u0026\u003e\b"`; got != want {
		t.Errorf("html-safe: %s, want %s", got, want)
	}
	if got, want := string(jsonenc.AppendString(nil, "<&>\b", false)), `"<&>\b"`; got != want {
		t.Errorf("not html-safe: %s, want %s", got, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		got := string(jsonenc.AppendString(nil, s, html))
		if want := reference(t, s, html); got != want {
			t.Fatalf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 256)
	for _, s := range []string{"ada.lovelace@example.com", `Mozilla/5.0 "quoted" <tag> & ünï`} {
		b.Run(s[:3], func(b *testing.B) {
			for b.Loop() {
				buf = jsonenc.AppendString(buf[:0], s, true)
			}
		})
	}
}

func TestSortedKeysAndAppendKey(t *testing.T) {
	m := map[string]any{"b": 1, "A": 2, "a<": 3, "": 4}
	keys := jsonenc.SortedKeys(nil, m)
	if got := strings.Join(keys, ","); got != ",A,a<,b" {
		t.Fatalf("SortedKeys = %q", got)
	}
	var b []byte
	for i, k := range keys {
		b = jsonenc.AppendKey(b, i, k, true)
		b = append(b, '1')
	}
	if got := string(b); got != `"":1,"A":1,"a\u003c":1,"b":1` {
		t.Errorf("AppendKey built %s", got)
	}
}
