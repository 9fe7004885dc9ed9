package crowd_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/clienttest"
	"github.com/scimbridge/scimbridge/atlassian/crowd"
)

func newClient(t *testing.T, _ *atlassiantest.Emulator, baseURL string) clienttest.Client {
	c, err := crowd.New(crowd.Options{TransportOptions: clienttest.TransportOptions(t, baseURL, atlassian.BasicAuth(clienttest.User, clienttest.Password))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) { clienttest.Run(t, newClient) }

// Crowd's own base URL has a /crowd context path.
func TestConformanceCrowdContextPath(t *testing.T) {
	clienttest.Run(t, func(t *testing.T, e *atlassiantest.Emulator, baseURL string) clienttest.Client {
		return newClient(t, e, baseURL+"/crowd")
	})
}

// Jira before 8.3 cannot change "active" through its own REST API; Atlassian's workaround is the
// Crowd API Jira serves as a user server (doc §1.10, JRASERVER-37294). The whole suite, activation
// included, passes against the Crowd face of an emulated Jira 8.2.
func TestConformanceJira82UserServer(t *testing.T) {
	clienttest.RunConfig(t, clienttest.Config{JiraVersion: "8.2.0"}, newClient)
}
