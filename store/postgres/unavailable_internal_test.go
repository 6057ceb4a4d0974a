package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/meshgate/meshgate/store"
)

func TestUnreachableClassifies(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"dial refused", fmt.Errorf("get: %w", refused), true},
		{"connect error", &pgconn.ConnectError{}, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"conn closed", pgconn.ErrConnClosed, true},
		{"deadline", context.DeadlineExceeded, true},
		{"nil", nil, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"conflict", fmt.Errorf("apply: %w", store.ErrConflict), false},
		{"not found", store.ErrNotFound, false},
		{"caller gave up", context.Canceled, false},
		{"validation", errors.New("invalid key"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, unreachable(tc.err))
			err := tc.err
			markUnavailable(&err)
			assert.Equal(t, tc.want, errors.Is(err, store.ErrUnavailable))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err, "the cause stays in the chain")
			}
		})
	}
}
