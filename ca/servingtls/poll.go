package servingtls

import (
	"context"
	"crypto/sha256"
	"time"
)

// pollState is what the file poller remembers between reads.
type pollState struct {
	// pending is content seen once; it is loaded when the next read sees it again, so a file
	// caught mid-write (or a cert already replaced while its key is not yet) is never loaded.
	pending    [sha256.Size]byte
	hasPending bool
	// rejected is content that failed to load, so it is reported once, not every poll.
	rejected    [sha256.Size]byte
	hasRejected bool
	// readErr is the last read error reported, for the same reason.
	readErr string
}

func (s *Source) pollFiles(ctx context.Context) error {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	var st pollState
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.pollOnce(&st)
		}
	}
}

func (s *Source) pollOnce(st *pollState) {
	p, err := readPair(s.opts.CertFile, s.opts.KeyFile)
	if err != nil {
		st.hasPending = false
		if err.Error() != st.readErr {
			st.readErr = err.Error()
			s.log.Warn("control-plane TLS: cannot read the certificate files; the current certificate keeps serving", "error", err)
		}
		return
	}
	st.readErr = ""
	fp := p.fingerprint()
	if fp == s.cur.Load().fp || (st.hasRejected && fp == st.rejected) {
		st.hasPending = false
		return
	}
	if !st.hasPending || st.pending != fp {
		st.pending, st.hasPending = fp, true
		return
	}
	st.hasPending = false
	next, err := loadPair(p, s.opts.CertFile, s.opts.KeyFile, s.sans, s.opts.Now())
	if err != nil {
		st.rejected, st.hasRejected = fp, true
		s.metrics.updates.WithLabelValues("error").Inc()
		s.log.Error("control-plane TLS: new certificate files rejected; the previous certificate keeps serving", "error", err)
		return
	}
	s.swap(next)
	s.log.Info("control-plane TLS: serving certificate reloaded", append(leafAttrs(next), "certFile", s.opts.CertFile)...)
}
