// Package transform turns a SCIM user, as the store holds it, and the IdP
// groups it belongs to into the Atlassian account and groups it should have.
// It is pure: no I/O, no clock, no package state; a Compiled is immutable and
// safe for concurrent use.
//
// A tenant's mapping:, users: and groups: blocks decode into a Spec. The flow
// is:
//
//	spec := transform.Merge(preset.Spec(), tenantSpec) // piece by piece
//	c, err := transform.Compile(spec)                  // *SpecError: every problem with its key path
//	d, err := c.Desired(user, transform.Flatten(nested, direct))
//
// Desired gives the username, display name, email, active flag and sorted
// Atlassian groups, or Skipped with a Reason for a user out of scope (in no
// users.require_groups group) or without a username. Errors are *FieldError
// values naming the field, the source or rule, and the input.
//
// Group rules apply in this order: users.require_groups and
// groups.include/exclude match IdP group names; groups.rename turns the groups
// that passed into Atlassian names (first matching rule); groups.default are
// added. groups.managed matches Atlassian names and, with the default groups,
// says where the bridge may remove memberships it did not add itself (see
// Compiled.Managed for the argument and Removals for the whole rule).
// Union merges the groups of several tenants feeding one target; the
// priority between tenants is the engine's business.
package transform
