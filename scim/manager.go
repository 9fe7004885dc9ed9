package scim

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/elimity-com/scim/schema"
)

// managerIDAlias turns OneLogin's manager.managerId into manager.value in a
// POST or PUT of a user. OneLogin's "Enterprise User Schema" template sends
// the enterprise manager as {"managerId": …, "displayName": …}
// (idp-scim-clients.md section 4); managerId is no attribute of RFC 7643's
// manager, so the schema validation dropped it and the user lost its
// manager. A body that names no managerId, or whose manager already has a
// value, is returned as it is (the same slice).
func managerIDAlias(body []byte) []byte {
	if !containsFold(body, "managerid") {
		return body
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return body
	}
	enterprise := schema.ExtensionEnterpriseUser().ID
	changed := false
	for k, ext := range doc {
		em, ok := ext.(map[string]any)
		if !ok || !strings.EqualFold(k, enterprise) {
			continue
		}
		for mk, mv := range em {
			manager, ok := mv.(map[string]any)
			if !ok || !strings.EqualFold(mk, "manager") {
				continue
			}
			var idKey string
			hasValue := false
			for fk := range manager {
				switch {
				case strings.EqualFold(fk, "managerId"):
					idKey = fk
				case strings.EqualFold(fk, "value"):
					hasValue = true
				}
			}
			if idKey == "" || hasValue {
				continue
			}
			manager["value"] = manager[idKey]
			delete(manager, idKey)
			changed = true
		}
	}
	if !changed {
		return body
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// containsFold reports whether b contains the ASCII word s, in any case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if b[i]|0x20 == s[0] && strings.EqualFold(string(b[i:i+len(s)]), s) {
			return true
		}
	}
	return false
}
