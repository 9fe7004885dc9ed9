package sqlite_test

import (
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestEngineConformance(t *testing.T) {
	storetest.RunEngine(t, func(t *testing.T, now func() time.Time) storetest.EngineStore { return openTest(t, now) })
}
