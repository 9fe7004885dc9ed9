// Package atlassiantest is an in-memory emulator of the Atlassian user-management REST APIs that
// scimbridge writes to: Jira Data Center REST v2 (/rest/api/2, alias /rest/api/latest) and Crowd
// usermanagement REST (/rest/usermanagement/1, alias /rest/usermanagement/latest, also under /crowd).
//
// Both faces share one directory: users (case-insensitive usernames kept in their display case,
// JIRAUSER<n> keys that survive renames), groups, memberships, licence seats, last-login times and a
// "has content" flag that makes Jira refuse a delete. Every answer follows
// shared/docs/atlassian-api.md; where that document marks a behaviour [U] or says nothing, the code
// carries a "Guess:" comment naming the section.
//
// The emulator also injects faults (error rate and status, latency, a token-bucket rate limit that
// answers 429 with the Jira DC X-RateLimit-* headers, dropped connections, a read-only user
// directory) and exposes a control
// surface under /_emulator/ that needs no credentials and is never faulted or rate limited:
//
//	GET  /_emulator/state      the directory as JSON (see State)
//	GET  /_emulator/faults     the faults in force
//	POST /_emulator/faults     replace the faults (see Faults; a field left out or zero is off)
//	POST /_emulator/reset      empty directory, no faults, empty request log
//	POST /_emulator/login      {"username":"x"}: record a login (refused with 403 for an inactive user)
//	POST /_emulator/content    {"username":"x"}: the user now owns issues, so deleting them is refused
//	POST /_emulator/users      seed a pre-existing user (see SeedUser)
//	GET  /_emulator/requests   the request log (see RequestRecord); DELETE clears it
//
// Use it in-process with httptest.NewServer(atlassiantest.New(opts)), or as the binary
// cmd/atlassian-emulator.
package atlassiantest
