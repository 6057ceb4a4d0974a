package servingtls

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	// DefaultValidity is the life of a generated serving leaf.
	DefaultValidity = 30 * 24 * time.Hour
	// DefaultRenewFraction: a generated leaf is replaced once this fraction of its life has
	// passed, so a failed renewal has a third of the life (10 days by default) to be noticed.
	DefaultRenewFraction = 2.0 / 3.0
	// DefaultCheckInterval bounds the time between renewal checks in generated mode, so a
	// clock jump (suspend, NTP step) is noticed within it and a failed renewal is retried.
	DefaultCheckInterval = time.Minute
	// DefaultPollInterval is how often the files are read in file mode.
	DefaultPollInterval = 5 * time.Second
	// Backdate moves a generated certificate's NotBefore into the past, so a client whose
	// clock is somewhat behind ours still accepts it (as package ca does for SVIDs).
	Backdate = time.Minute
	// CAValidity is the life of a generated control-plane CA.
	CAValidity = 10 * 365 * 24 * time.Hour
)

// Options configure a Source. Exactly one mode is chosen: file mode when CertFile is set,
// otherwise generated mode, which needs Store.
type Options struct {
	// Store keeps the control-plane CA (generated mode).
	Store StateStore
	// SANs are the generated leaf's subject alternative names, each an IP address or a DNS name
	// (a leading "*." wildcard is allowed). Empty: DefaultSANs. In file mode they are
	// requirements instead: the certificate must cover each of them, at start and on reload.
	SANs []string

	// CertFile and KeyFile select file mode: PEM, the cert file holding the leaf first and
	// optionally its chain; the key in PKCS#8, PKCS#1 or SEC 1 form. Both or neither.
	CertFile string
	KeyFile  string

	// Validity is a generated leaf's life; 0 means DefaultValidity. It is cut at the CA's end.
	Validity time.Duration
	// RenewFraction is the fraction of a generated leaf's life after which it is replaced, in
	// (0, 1); 0 means DefaultRenewFraction.
	RenewFraction float64
	// CheckInterval is the longest sleep of the renewal loop (generated mode) and the retry
	// interval after a failed renewal; 0 means DefaultCheckInterval.
	CheckInterval time.Duration
	// PollInterval is how often the files are read in file mode; 0 means DefaultPollInterval.
	// A change is applied once two consecutive reads agree, so a file caught half-written is
	// never loaded and never logged as bad.
	PollInterval time.Duration

	// Registerer, when set, gets the serving certificate's metrics.
	Registerer prometheus.Registerer
	// Logger: nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Hostname supplies the default SAN; nil means os.Hostname. For tests.
	Hostname func() (string, error)
}

func (o Options) fileMode() bool { return o.CertFile != "" || o.KeyFile != "" }

// normal validates o and fills in the defaults.
func (o Options) normal() (Options, error) {
	switch {
	case o.CertFile != "" && o.KeyFile == "":
		return o, fmt.Errorf("cert file %s given without a key file", o.CertFile)
	case o.KeyFile != "" && o.CertFile == "":
		return o, fmt.Errorf("key file %s given without a cert file", o.KeyFile)
	case !o.fileMode() && o.Store == nil:
		return o, errors.New("no store for the generated control-plane CA, and no cert and key files")
	case o.Validity < 0:
		return o, fmt.Errorf("validity %s must not be negative", o.Validity)
	case o.RenewFraction < 0 || o.RenewFraction >= 1:
		return o, fmt.Errorf("renew fraction %g must be in (0, 1)", o.RenewFraction)
	case o.CheckInterval < 0:
		return o, fmt.Errorf("check interval %s must not be negative", o.CheckInterval)
	case o.PollInterval < 0:
		return o, fmt.Errorf("poll interval %s must not be negative", o.PollInterval)
	}
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if o.RenewFraction == 0 {
		o.RenewFraction = DefaultRenewFraction
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
