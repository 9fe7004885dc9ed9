package jira_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/clienttest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
)

func newPATClient(t *testing.T, _ *atlassiantest.Emulator, baseURL string) clienttest.Client {
	c, err := jira.New(jira.Options{TransportOptions: clienttest.TransportOptions(t, baseURL, atlassian.BearerToken(clienttest.Token))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newBasicClient(t *testing.T, _ *atlassiantest.Emulator, baseURL string) clienttest.Client {
	c, err := jira.New(jira.Options{TransportOptions: clienttest.TransportOptions(t, baseURL, atlassian.BasicAuth(clienttest.User, clienttest.Password))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The default emulated Jira (9.12) has no /user/list: ListUsers pages /user/search.
func TestConformanceJira9PAT(t *testing.T) { clienttest.Run(t, newPATClient) }

// Jira 10.3 LTS streams users through /user/list.
func TestConformanceJira10_3PAT(t *testing.T) {
	clienttest.RunConfig(t, clienttest.Config{JiraVersion: "10.3.0"}, newPATClient)
}

// Jira 8.13 predates personal access tokens: basic auth.
func TestConformanceJira8_13Basic(t *testing.T) {
	clienttest.RunConfig(t, clienttest.Config{JiraVersion: "8.13.0"}, newBasicClient)
}
