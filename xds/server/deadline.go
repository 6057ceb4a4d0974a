package server

import (
	"fmt"
	"time"
)

// anonymousDeadline ends st if it has not been admitted (a first request with a node the
// authenticator accepted) within the server's FirstRequestTimeout. Without it, a client that
// opens streams and never speaks holds two goroutines and their buffers per stream forever.
// The returned func stops the timer.
func (s *Server) anonymousDeadline(st *stream) func() {
	if s.firstRequest <= 0 {
		return func() {}
	}
	t := time.AfterFunc(s.firstRequest, func() {
		if st.admitted.Load() {
			return
		}
		s.metrics.anonymousEnded.Inc()
		st.stop(fmt.Errorf("%w: no admitted request within %s", errAnonymous, s.firstRequest))
	})
	return func() { t.Stop() }
}
