// Package storetest is the contract every store.Store implementation must pass.
package storetest

import (
	"testing"

	"github.com/meshgate/meshgate/store"
)

// Opener returns a Store for t. The first call for a given t must return a store on empty
// storage; a later call with the same t, after the earlier store was closed, must reopen that
// same storage (the persistence tests rely on it). The opener registers its own cleanup.
type Opener func(t *testing.T) store.Store

// Run runs the whole contract suite against the stores that open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"PutGet", testPutGet},
		{"SpecBytesPreserved", testSpecBytes},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"ListInvalid", testListInvalid},
		{"VersionsIncrease", testVersionsIncrease},
		{"ExpectedVersion", testExpectedVersion},
		{"DeleteMissing", testDeleteMissing},
		{"InvalidRequests", testInvalidRequests},
		{"TransactionAtomic", testTransactionAtomic},
		{"Revision", testRevision},
		{"All", testAll},
		{"AllConsistent", testAllConsistent},
		{"Watch", testWatch},
		{"WatchCoalesces", testWatchCoalesces},
		{"WatchClosesOnCancel", testWatchClosesOnCancel},
		{"WatchClosesOnClose", testWatchClosesOnClose},
		{"State", testState},
		{"StateDelete", testStateDelete},
		{"PutStates", testPutStates},
		{"ConcurrentPutStates", testConcurrentPutStates},
		{"Persistence", testPersistence},
		{"ConcurrentApply", testConcurrentApply},
		{"Times", testTimes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}
