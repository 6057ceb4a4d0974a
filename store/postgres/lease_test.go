package postgres_test

import (
	"testing"

	"github.com/meshgate/meshgate/store/storetest"
)

func TestLeaseContract(t *testing.T) {
	adminURL(t)
	storetest.RunLease(t, opener())
}
