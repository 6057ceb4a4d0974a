package rest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/meshgate/meshgate/store"
)

// memStore is an in-memory store.Store for these tests, with the contract's semantics for
// versions, all-or-nothing Apply and paging.
type memStore struct {
	mu   sync.Mutex
	recs map[store.Key]store.Record
	rev  int64
	// beforeApply, when set, runs before each Apply, outside the lock: a test uses it to be
	// the concurrent writer.
	beforeApply func()
}

var _ store.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{recs: map[store.Key]store.Record{}} }

func (s *memStore) Get(_ context.Context, key store.Key) (store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[key]
	if !ok {
		return store.Record{}, fmt.Errorf("get %v: %w", key, store.ErrNotFound)
	}
	return rec, nil
}

func (s *memStore) sorted(kind, mesh string) []store.Record {
	var out []store.Record
	for k, r := range s.recs {
		if (kind == "" || k.Kind == kind) && (mesh == "" || k.Mesh == mesh) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Mesh != out[j].Mesh {
			return out[i].Mesh < out[j].Mesh
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (s *memStore) List(_ context.Context, req store.ListRequest) (store.ListResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.sorted(req.Kind, req.Mesh)
	if req.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(req.PageToken)
		mesh, name, ok := strings.Cut(string(raw), "\x00")
		if err != nil || !ok {
			return store.ListResponse{}, errors.New("malformed page token")
		}
		i := sort.Search(len(recs), func(i int) bool {
			return recs[i].Mesh > mesh || (recs[i].Mesh == mesh && recs[i].Name > name)
		})
		recs = recs[i:]
	}
	if req.PageSize == 0 || len(recs) <= req.PageSize {
		return store.ListResponse{Records: recs}, nil
	}
	recs = recs[:req.PageSize]
	last := recs[len(recs)-1]
	return store.ListResponse{Records: recs, NextPageToken: base64.RawURLEncoding.EncodeToString([]byte(last.Mesh + "\x00" + last.Name))}, nil
}

func (s *memStore) All(context.Context) (store.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return store.Snapshot{Records: s.sorted("", ""), Revision: s.rev}, nil
}

func (s *memStore) Apply(_ context.Context, req store.ApplyRequest) (store.ApplyResult, error) {
	if s.beforeApply != nil {
		s.beforeApply()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range req.Puts {
		cur, ok := s.recs[p.Key]
		switch {
		case p.ExpectedVersion == -1 && ok, p.ExpectedVersion > 0 && (!ok || cur.Version != p.ExpectedVersion):
			return store.ApplyResult{}, fmt.Errorf("put %v: %w", p.Key, store.ErrConflict)
		}
	}
	for _, d := range req.Deletes {
		cur, ok := s.recs[d.Key]
		if !ok {
			return store.ApplyResult{}, fmt.Errorf("delete %v: %w", d.Key, store.ErrNotFound)
		}
		if d.ExpectedVersion > 0 && cur.Version != d.ExpectedVersion {
			return store.ApplyResult{}, fmt.Errorf("delete %v: %w", d.Key, store.ErrConflict)
		}
	}
	s.rev++
	now := time.Now().UTC()
	var res store.ApplyResult
	for _, p := range req.Puts {
		rec, ok := s.recs[p.Key]
		if !ok {
			rec = store.Record{Key: p.Key, CreationTime: now}
		}
		rec.Spec, rec.Origin, rec.ModificationTime = append([]byte(nil), p.Spec...), p.Origin, now
		rec.Version++
		s.recs[p.Key] = rec
		res.Records = append(res.Records, rec)
	}
	for _, d := range req.Deletes {
		delete(s.recs, d.Key)
	}
	res.Revision = s.rev
	return res, nil
}

func (s *memStore) Watch(ctx context.Context) (<-chan int64, error) {
	ch := make(chan int64)
	go func() { <-ctx.Done(); close(ch) }()
	return ch, nil
}

func (s *memStore) GetState(context.Context, string) ([]byte, int64, error) {
	return nil, 0, store.ErrNotFound
}

func (s *memStore) PutState(context.Context, string, []byte, int64) (int64, error) {
	return 0, errors.New("memStore: no state")
}

func (s *memStore) DeleteState(context.Context, string, int64) error {
	return errors.New("memStore: no state")
}

func (s *memStore) PutStates(context.Context, []store.StateWrite) ([]int64, error) {
	return nil, errors.New("memStore: no state")
}

func (s *memStore) Close() error { return nil }
