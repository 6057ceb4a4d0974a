package dns

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every answer during concurrent swaps must come whole from one zone: zone i
// gives a.mesh 10.0.<i>.1 and 10.0.<i>.2, so both addresses of one answer must
// share their first three octets.
func TestZoneSwapUnderLoad(t *testing.T) {
	zones := make([]*Zone, 20)
	for i := range zones {
		z, err := NewZone(ZoneConfig{Serial: uint32(i + 1), Global: []Record{
			{Name: "a.mesh", A: mustAddrs(t, fmt.Sprintf("10.0.%d.1", i), fmt.Sprintf("10.0.%d.2", i))},
		}})
		require.NoError(t, err)
		zones[i] = z
	}
	s, addr := startServer(t, Options{}, zones[0])

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			s.SetZone(zones[i%len(zones)])
		}
	})
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			c := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
			for ctx.Err() == nil {
				r, _, err := c.Exchange(new(mdns.Msg).SetQuestion("a.mesh.", mdns.TypeA), addr)
				if err != nil {
					errs <- err
					return
				}
				ips := answerIPs(r)
				if len(ips) != 2 || ips[0][:len(ips[0])-1] != ips[1][:len(ips[1])-1] {
					errs <- fmt.Errorf("mixed answer %v", ips)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}
