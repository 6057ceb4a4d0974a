package server

import (
	"log/slog"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
)

// maxOutstanding bounds the delta responses remembered while awaiting their ACK. Envoy answers
// each in order, so only a client that never answers fills it, and then the oldest go.
const maxOutstanding = 16

// track is one stream's exchange for one type.
type track struct {
	// latest is the nonce of the newest response.
	latest string
	// outstanding holds the responses not yet ACKed or NACKed, oldest first. A
	// state-of-the-world client answers only the newest response, so there it holds at most
	// that one, and a request carrying an older nonce answers nothing.
	outstanding []sentResponse
	// rejected is the version of the newest response if the client NACKed it.
	rejected string
}

type sentResponse struct {
	nonce, version string
	at             time.Time
}

func (t *track) take(nonce string) (sentResponse, bool) {
	for i, o := range t.outstanding {
		if o.nonce == nonce {
			t.outstanding = append(t.outstanding[:i], t.outstanding[i+1:]...)
			return o, true
		}
	}
	return sentResponse{}, false
}

// sent records a response about to go out on the stream.
func (st *stream) sent(typeURL, nonce, version string) {
	tr := st.types[typeURL]
	if tr == nil {
		tr = &track{}
		st.types[typeURL] = tr
	}
	out := sentResponse{nonce: nonce, version: version, at: time.Now()}
	tr.latest, tr.rejected = nonce, ""
	if st.proto == protoSotw {
		// A state-of-the-world client answers only the newest response; older ones are stale.
		tr.outstanding = append(tr.outstanding[:0], out)
	} else {
		if len(tr.outstanding) == maxOutstanding {
			tr.outstanding = append(tr.outstanding[:0], tr.outstanding[1:]...)
		}
		tr.outstanding = append(tr.outstanding, out)
	}
	st.srv.metrics.pushes.WithLabelValues(typeLabel(typeURL)).Inc()
	st.srv.registry.update(st.node, typeURL, func(ts *TypeStatus) {
		ts.SentVersion, ts.SentAt, ts.Rejected = version, out.at, false
	})
}

// sotwReply accounts a state-of-the-world request that answers a response, and keeps a
// rejected version from being sent again.
//
// go-control-plane's cache answers at once any request whose version_info differs from the
// snapshot's (pkg/cache/v3/simple.go, CreateWatch: the `request.GetVersionInfo() == version`
// test, else respond). A NACK carries the last version the client accepted, so the cache
// re-sends the rejected version straight away, is NACKed again, and so on (upstream issue
// #962). Rewriting the request's version_info to the rejected version makes the cache treat
// the client as holding it: the watch then fires only when the type's version changes
// (simple.go, respondSOTWWatches), and a snapshot that moved on before the NACK arrived is
// still sent at once. The rewrite holds for every later request answering the same response
// (Envoy re-requests with that nonce when its subscription changes), until a newer response is
// sent. It applies whatever nonce the request carries: go-control-plane drops a request with
// a stale nonce only until it has processed one (pkg/server/sotw/v3/ads.go, processADS: the
// re-created watch starts with an empty nonce), and any request it does process would bring
// the rejected version back. Names the client newly subscribes to are still answered
// (CreateWatch's not-yet-returned check): that is a new question, not a retry.
func (st *stream) sotwReply(req *discoveryv3.DiscoveryRequest) {
	tr := st.types[req.GetTypeUrl()]
	if tr == nil {
		return
	}
	if nonce := req.GetResponseNonce(); nonce != "" {
		if out, ok := tr.take(nonce); ok {
			st.settle(req.GetTypeUrl(), tr, out, req.GetErrorDetail())
		}
	}
	if tr.rejected != "" {
		req.VersionInfo = tr.rejected
	}
}

// deltaReply accounts a delta request that answers a response. Delta needs no parking: the
// server records what it sent as the client's state when sending (pkg/server/delta/v3/server.go,
// SetReturnedResources in process), so after a NACK the cache finds nothing changed and holds
// the watch (pkg/cache/v3/simple.go, respondDelta sends only when there are changes).
func (st *stream) deltaReply(req *discoveryv3.DeltaDiscoveryRequest) {
	tr := st.types[req.GetTypeUrl()]
	if tr == nil || req.GetResponseNonce() == "" {
		return
	}
	if out, ok := tr.take(req.GetResponseNonce()); ok {
		st.settle(req.GetTypeUrl(), tr, out, req.GetErrorDetail())
	}
}

// settle records the client's verdict on a response. A NACK is detected by error_detail, as
// the xDS protocol specifies, not by comparing versions.
func (st *stream) settle(typeURL string, tr *track, out sentResponse, detail *rpcstatus.Status) {
	now := time.Now()
	label := typeLabel(typeURL)
	m := st.srv.metrics
	if detail == nil {
		m.acks.WithLabelValues(label).Inc()
		m.ackWait.WithLabelValues(label).Observe(now.Sub(out.at).Seconds())
		st.srv.registry.update(st.node, typeURL, func(ts *TypeStatus) {
			ts.AckedVersion, ts.AckedAt = out.version, now
			if out.nonce == tr.latest {
				ts.Rejected = false
			}
		})
		return
	}
	if out.nonce == tr.latest {
		tr.rejected = out.version
	}
	m.nacks.WithLabelValues(label).Inc()
	st.srv.log.Warn("xDS response rejected",
		slog.String("node", st.node),
		slog.String("type", typeURL),
		slog.String("version", out.version),
		slog.String("protocol", st.proto),
		slog.Int("code", int(detail.GetCode())),
		slog.String("error", detail.GetMessage()))
	st.srv.registry.update(st.node, typeURL, func(ts *TypeStatus) {
		ts.LastNACK = &NACK{Version: out.version, Message: detail.GetMessage(), At: now}
		if out.nonce == tr.latest {
			ts.Rejected = true
		}
	})
}
