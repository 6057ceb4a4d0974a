package sqlite_test

import (
	"testing"

	"github.com/meshgate/meshgate/store/storetest"
)

func TestLeaseContract(t *testing.T) {
	storetest.RunLease(t, opener())
}
