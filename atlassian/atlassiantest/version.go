package atlassiantest

import (
	"fmt"
	"strconv"
	"strings"
)

// defaultJiraVersion is the version emulated when Options.JiraVersion is empty: a 9.x LTS has every
// feature the bridge needs except /user/list (10.3+).
const defaultJiraVersion = "9.12.0"

// version is a parsed Jira version; only major.minor.patch matter for the switches below.
type version struct{ major, minor, patch int }

func parseVersion(s string) (version, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return version{}, fmt.Errorf("jira version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 1000 {
			return version{}, fmt.Errorf("jira version %q: part %q is not a small number", s, p)
		}
		n[i] = v
	}
	return version{n[0], n[1], n[2]}, nil
}

func (v version) atLeast(major, minor int) bool {
	if v.major != major {
		return v.major > major
	}
	return v.minor >= minor
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

// activeOnPUT: `active` in PUT /user is honoured since Jira 8.3 (JRASERVER-44801); before that it is
// ignored and a body that changes nothing else gets error.no.value.found.to.be.changed
// (atlassian-api.md 1.1, 1.5, 7.3).
func (v version) activeOnPUT() bool { return v.atLeast(8, 3) }

// dbKeys: since Jira 8.4 new users get JIRAUSER<id> keys (atlassian-api.md 1.2).
func (v version) dbKeys() bool { return v.atLeast(8, 4) }

// pat: personal access tokens exist since Jira 8.14 (atlassian-api.md 1.10).
func (v version) pat() bool { return v.atLeast(8, 14) }

// userList: GET /user/list exists in 10.3 LTS and 11.0+ (atlassian-api.md 1.7).
func (v version) userList() bool { return v.atLeast(10, 3) }

// searchCap100: on DC 10.x /user/search returns at most the first 100 results (atlassian-api.md 1.7).
// Guess (1.7 [U]): the cap starts with 10.0; older versions allow pages of up to 1000.
func (v version) searchCap100() bool { return v.atLeast(10, 0) }

// basicAuthOff: Jira 11.0 disables basic auth by default (atlassian-api.md 1.10).
func (v version) basicAuthOff() bool { return v.atLeast(11, 0) }
