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
