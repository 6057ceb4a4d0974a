// Command serve runs meshgate's DNS server on the records of a hosts file, so
// compare.sh can load it with dnsperf next to CoreDNS's hosts plugin on the
// very same records. It is a benchmark fixture, not the product's entry point.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	meshdns "github.com/meshgate/meshgate/dns"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5653", "UDP and TCP address")
	hosts := flag.String("hosts", "", "hosts file: IP NAME... per line")
	origin := flag.String("origin", meshdns.DefaultOrigin, "zone origin")
	perCore := flag.Bool("sockets-per-core", true, "one SO_REUSEPORT UDP socket per GOMAXPROCS")
	flag.Parse()
	if err := run(*addr, *hosts, *origin, *perCore); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func run(addr, hostsFile, origin string, perCore bool) error {
	recs, err := readHosts(hostsFile)
	if err != nil {
		return err
	}
	z, err := meshdns.NewZone(meshdns.ZoneConfig{Origin: origin, Global: recs})
	if err != nil {
		return fmt.Errorf("building zone: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := meshdns.New(meshdns.Options{Address: addr, SocketsPerCore: perCore, Logger: log})
	if err != nil {
		return fmt.Errorf("creating server: %w", err)
	}
	s.SetZone(z)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Serve(ctx); err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

func readHosts(path string) ([]meshdns.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading hosts: %w", err)
	}
	defer f.Close()
	var recs []meshdns.Record
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(strings.SplitN(sc.Text(), "#", 2)[0])
		if len(fields) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		for _, name := range fields[1:] {
			r := meshdns.Record{Name: name}
			if ip.Is4() {
				r.A = []netip.Addr{ip}
			} else {
				r.AAAA = []netip.Addr{ip}
			}
			recs = append(recs, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading hosts: %w", err)
	}
	return recs, nil
}
