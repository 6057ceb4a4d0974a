// Command app is the gRPC-Go application of examples/proxyless and of the proxyless end-to-end tests
// (test/proxyless_e2e_test.go): an xDS gRPC server or client configured by meshgate, nothing
// else. gRPC-Go reads its xDS bootstrap once, at package init, from GRPC_XDS_BOOTSTRAP, so each
// dataplane is its own process.
//
//	app server -addr 127.0.0.1:PORT -name echo
//	    serves grpc.testing.TestService/UnaryCall through xds.NewGRPCServer and answers with the
//	    caller's SPIFFE ID; prints `SERVING` or `NOT_SERVING <why>` whenever gRPC's serving mode
//	    changes (it serves only once meshgate sent the listener of that address).
//	app client -target xds:///echo.mesh:8080
//	    for each line `call` on standard input makes one UnaryCall and prints one JSON line:
//	    {"code", "message", "serverID" (the server's SPIFFE ID as this side verified it),
//	    "seenByServer" (the caller's SPIFFE ID as the server saw it)}.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	xdscreds "google.golang.org/grpc/credentials/xds"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: app server|client [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = server(os.Args[2:])
	case "client":
		err = client(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

// peerID is the SPIFFE ID (first URI SAN) of the verified peer certificate of a call.
func peerID(p *peer.Peer) string {
	if p == nil {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 || len(info.State.PeerCertificates[0].URIs) == 0 {
		return ""
	}
	return info.State.PeerCertificates[0].URIs[0].String()
}

// peerSerial is the serial number of the verified peer certificate of a call.
func peerSerial(p *peer.Peer) string {
	if p == nil {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return ""
	}
	return info.State.PeerCertificates[0].SerialNumber.String()
}

type echo struct {
	testpb.UnimplementedTestServiceServer
	name string
}

func (e *echo) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	p, _ := peer.FromContext(ctx)
	return &testpb.SimpleResponse{Username: peerID(p), Hostname: e.name}, nil
}

func server(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", "", "address to listen on: the inbound's address and port")
	name := fs.String("name", "", "name reported to callers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	creds, err := xdscreds.NewServerCredentials(xdscreds.ServerOptions{FallbackCreds: insecure.NewCredentials()})
	if err != nil {
		return err
	}
	srv, err := xds.NewGRPCServer(grpc.Creds(creds), xds.ServingModeCallback(func(_ net.Addr, a xds.ServingModeChangeArgs) {
		if a.Mode == connectivity.ServingModeServing {
			fmt.Println("SERVING")
		} else {
			fmt.Printf("NOT_SERVING %v\n", a.Err)
		}
	}))
	if err != nil {
		return fmt.Errorf("xDS server: %w", err)
	}
	testpb.RegisterTestServiceServer(srv, &echo{name: *name})
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	go func() { <-stop; srv.Stop() }()
	return srv.Serve(lis)
}

type result struct {
	Code         string `json:"code"`
	Message      string `json:"message,omitempty"`
	ServerID     string `json:"serverID,omitempty"`
	SeenByServer string `json:"seenByServer,omitempty"`
	Server       string `json:"server,omitempty"`
	// ServerSerial is the serial number of the certificate the server presented.
	ServerSerial string `json:"serverSerial,omitempty"`
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	target := fs.String("target", "", "xds:///<name>")
	fresh := fs.Bool("fresh", false, "a new connection (a new TLS handshake, with the certificates of the moment) for every call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	creds, err := xdscreds.NewClientCredentials(xdscreds.ClientOptions{FallbackCreds: insecure.NewCredentials()})
	if err != nil {
		return err
	}
	dial := func() (*grpc.ClientConn, error) { return grpc.NewClient(*target, grpc.WithTransportCredentials(creds)) }
	conn, err := dial()
	if err != nil {
		return err
	}
	defer func() { conn.Close() }()
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if in.Text() != "call" {
			return fmt.Errorf("unknown command %q", in.Text())
		}
		if *fresh {
			conn.Close()
			if conn, err = dial(); err != nil {
				return err
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var p peer.Peer
		resp, err := testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Peer(&p))
		cancel()
		r := result{Code: status.Code(err).String()}
		if err != nil {
			r.Message = status.Convert(err).Message()
		} else {
			r.ServerID, r.SeenByServer, r.Server = peerID(&p), resp.GetUsername(), resp.GetHostname()
			r.ServerSerial = peerSerial(&p)
		}
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	if err := in.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}
