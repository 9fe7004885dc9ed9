// Package atlassian holds what the product clients (jira, crowd) share: the product-neutral
// domain types (User, Group, NewUser, UserUpdate), the typed Error every client returns, and
// the HTTP Transport that rate limits, retries and logs requests to an Atlassian server.
//
// The facts the clients follow live in shared/docs/atlassian-api.md; behaviour not backed by a
// [V] entry there is marked "Guess:" in the code.
package atlassian
