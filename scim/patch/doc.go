// Package patch applies SCIM PATCH operations (RFC 7644 §3.5.2) to a stored
// resource, on top of github.com/elimity-com/scim, which validates PATCH
// requests but does not apply them.
//
// Two entry points:
//
//   - NormalizeBody rewrites a raw PATCH body before elimity sees it, for the
//     few IdP forms elimity would reject although the IdP really sends them
//     (see normalize.go for the list, each with its source).
//   - Apply applies the operations elimity delivers to a copy of the stored
//     attributes. It re-checks everything itself (paths, types, mutability),
//     so it is also safe on operations that did not come through elimity.
//
// What elimity (v0.0.0-20260728105928-2641426a1539) does before Apply runs,
// found by sending real requests through a scim.Server (TestElimityAcceptsAsIs
// and TestNormalizeBodyRewrites keep those probes as assertions):
//
//   - op is lower-cased; an unknown op is 400 invalidValue; remove without a
//     path is 400 noTarget; an empty Operations array is 400 invalidValue.
//   - Extra fields in an operation ("name":"addMember") and a top-level "id"
//     in the PatchOp body are ignored, so they need no rewriting.
//   - A pathless value map loses every "id" key, whatever its value: Okta's
//     rename {"id": <current id>, "displayName": …} reaches Apply as
//     {"displayName": …}. An id that differs from the current one is dropped
//     just as silently; Apply never sees it (and Apply itself rejects "id"
//     with mutability if called directly, because it cannot know the id).
//   - Pathless keys that are unknown or readOnly-and-unknown (meta, schemas,
//     "unknownAttr", "name.nosuch") fail the request with 400 invalidValue;
//     dotted and URN keys are validated and kept with the client's spelling.
//     "groups" (readOnly but declared) passes, so Apply rejects it.
//   - Values are typed per the schema (string booleans only with
//     schema.SetAllowStringValues(true)); unknown, null and readOnly
//     sub-attributes of complex values are dropped, so "display"/"$ref" of
//     members and manager.displayName may or may not arrive.
//   - value null, a bare string manager and a bare string member are
//     rejected; NormalizeBody rewrites them.
//
// Decisions Apply makes where the RFC leaves room (each also commented where
// it is implemented):
//
//   - value null on add/replace, and "" for an optional string, remove the
//     attribute ("" is not stored). For a required attribute both are 400
//     invalidValue; remove of a required attribute is 400 mutability.
//   - Writes to the write-only password are accepted and dropped: passwords
//     are never stored.
//   - add/replace on a value-filter path that matches nothing creates the
//     element from the filter's eq terms (Entra, SCIM-SDK#416); a filter
//     without usable eq terms gives 400 noTarget.
//   - Group members keep only value and type (User/Group); the store computes
//     display.
//   - A singular complex attribute that has both "value" and "$ref"
//     sub-attributes (the enterprise manager) is a reference: it is stored as
//     {"value": id} only, and an empty id removes it.
package patch
