package stepca

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"unicode"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Type is the value of a Mesh mTLS backend's `type` that selects this backend.
const Type = "stepca"

// ConfigFromConf reads the `conf` of a Mesh mTLS backend of type stepca:
//
//	conf:
//	  url: https://ca.example.com:9000
//	  rootFingerprint: 4ac936a8…   # or root: {file|secret|inline|inlineString}, or both
//	  provisioner: meshgate        # a JWK provisioner
//	  password: {secret: step-provisioner-password}   # or file, inline, inlineString
//
// resolve turns a data source into bytes, decoding inline as base64 (the caller knows the
// mesh's Secrets and the file system). Every problem is reported, each naming its field
// under conf.
func ConfigFromConf(conf map[string]any, resolve func(api.DataSource) ([]byte, error)) (Config, error) {
	var cfg Config
	var errs []error
	add := func(field string, err error) { errs = append(errs, fmt.Errorf("conf.%s: %w", field, err)) }

	for _, k := range sortedKeys(conf) {
		if !slices.Contains([]string{"url", "rootFingerprint", "root", "provisioner", "password"}, k) {
			add(k, errors.New("unknown field (known: url, rootFingerprint, root, provisioner, password)"))
		}
	}

	var err error
	if cfg.URL, err = stringField(conf, "url", true); err != nil {
		add("url", err)
	} else if err := checkURL(cfg.URL); err != nil {
		errs = append(errs, fmt.Errorf("conf.%w", err)) // checkURL's message starts with "url:"
	}
	if cfg.Provisioner, err = stringField(conf, "provisioner", true); err != nil {
		add("provisioner", fmt.Errorf("%w (the name of a JWK provisioner of the step-ca)", err))
	}
	if err := readRoot(conf, resolve, &cfg); err != nil {
		errs = append(errs, err)
	}

	if _, ok := conf["password"]; !ok {
		add("password", errors.New("required (the password of the JWK provisioner's key: {secret|file|inline|inlineString})"))
	} else if pw, err := dataSourceField(conf, "password", resolve); err != nil {
		add("password", err)
	} else if pw = bytes.TrimRightFunc(pw, unicode.IsSpace); len(pw) == 0 {
		// Trimmed as step trims --password-file, so a file written with echo works.
		add("password", errors.New("is empty"))
	} else {
		cfg.ProvisionerPassword = pw
	}

	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// readRoot fills the pinned root: a fingerprint, a certificate, or both (then they must
// agree).
func readRoot(conf map[string]any, resolve func(api.DataSource) ([]byte, error), cfg *Config) error {
	_, hasFP := conf["rootFingerprint"]
	_, hasRoot := conf["root"]
	if !hasFP && !hasRoot {
		return errors.New("conf: one of rootFingerprint or root is required (the step-ca root: its SHA-256 fingerprint as `step ca init` prints it, or the certificate)")
	}
	var errs []error
	var err error
	if cfg.RootFingerprint, err = stringField(conf, "rootFingerprint", hasFP && !hasRoot); err != nil {
		errs = append(errs, fmt.Errorf("conf.rootFingerprint: %w", err))
	}
	if hasRoot {
		if cfg.RootPEM, err = dataSourceField(conf, "root", resolve); err != nil {
			errs = append(errs, fmt.Errorf("conf.root: %w", err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if _, err := cfg.pin(); err != nil {
		return fmt.Errorf("conf.%w", err) // pin's messages start with the field name
	}
	return nil
}

func stringField(conf map[string]any, key string, required bool) (string, error) {
	v, ok := conf[key]
	if !ok || v == nil {
		if required {
			return "", errors.New("required")
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("must be a string, got %T", v)
	}
	if s == "" && required {
		return "", errors.New("required")
	}
	return s, nil
}

// dataSourceField reads conf[key] as a Kuma DataSource: exactly one of secret, file,
// inline (base64) or inlineString.
func dataSourceField(conf map[string]any, key string, resolve func(api.DataSource) ([]byte, error)) ([]byte, error) {
	m, ok := conf[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a data source {secret|file|inline|inlineString}, got %T", conf[key])
	}
	var ds api.DataSource
	set := 0
	for _, k := range sortedKeys(m) {
		s, ok := m[k].(string)
		if !ok {
			return nil, fmt.Errorf("%s: must be a string, got %T", k, m[k])
		}
		switch k {
		case "secret":
			ds.Secret = s
		case "file":
			ds.File = s
		case "inline":
			ds.Inline = s
		case "inlineString":
			ds.InlineString = s
		default:
			return nil, fmt.Errorf("%s: unknown field (known: secret, file, inline, inlineString)", k)
		}
		if s != "" {
			set++
		}
	}
	switch {
	case set == 0:
		return nil, errors.New("data source has to be chosen: one of secret, file, inline, inlineString")
	case set > 1:
		return nil, errors.New("only one of secret, file, inline or inlineString can be set")
	}
	if resolve == nil {
		return nil, errors.New("no resolver for data sources")
	}
	b, err := resolve(ds)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
