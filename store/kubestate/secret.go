package kubestate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/meshgate/meshgate/kube/meta"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// How a state entry looks as a Secret. `kubectl get secrets -l meshgate.io/state=true` lists
// them; the key is in an annotation because state keys ("ca/default/root") are not valid
// object names.
const (
	// SecretPrefix begins every state Secret's name; a hash of the key follows.
	SecretPrefix = "meshgate-state-"
	// SecretType is the state Secrets' type.
	SecretType corev1.SecretType = "meshgate.io/state"
	// StateLabel is "true" on every state Secret.
	StateLabel = "meshgate.io/state"
	// KeyAnnotation holds the state key.
	KeyAnnotation = "meshgate.io/state-key"
	// VersionAnnotation holds the entry's version (decimal).
	VersionAnnotation = "meshgate.io/state-version"
	// ValueField is the data field holding the value.
	ValueField = "value"
)

// MaxValueSize is the largest value a state entry holds: all a Secret's data may take.
const MaxValueSize = corev1.MaxSecretSize

// SecretName is the name of the Secret holding key: stable, and valid whatever the key holds.
func SecretName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return SecretPrefix + hex.EncodeToString(sum[:])
}

// entry is a state entry as read: absent, or its Secret and what it holds.
type entry struct {
	exists  bool
	version int64
	value   []byte
	secret  *corev1.Secret
}

func (s *Store) secrets() typedcorev1.SecretInterface {
	return s.client.CoreV1().Secrets(s.namespace)
}

// newSecret is the Secret holding key at version.
func (s *Store) newSecret(key string, value []byte, version int64) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        SecretName(key),
			Namespace:   s.namespace,
			Labels:      map[string]string{meta.ManagedByLabel: meta.ManagedByValue, StateLabel: "true"},
			Annotations: map[string]string{KeyAnnotation: key, VersionAnnotation: strconv.FormatInt(version, 10)},
		},
		Type: SecretType,
		Data: map[string][]byte{ValueField: backend.NonNil(value)},
	}
}

// withValue is a copy of sec holding value at version (whatever else sec carries is kept).
func withValue(sec *corev1.Secret, value []byte, version int64) *corev1.Secret {
	out := sec.DeepCopy()
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[VersionAnnotation] = strconv.FormatInt(version, 10)
	out.Data = map[string][]byte{ValueField: backend.NonNil(value)}
	return out
}

// decode reads the entry in sec, which was found under key's name.
func decode(key string, sec *corev1.Secret) (entry, error) {
	if got, ok := sec.Annotations[KeyAnnotation]; !ok || got != key {
		return entry{}, fmt.Errorf("Secret %s/%s holds state %q, not %q", sec.Namespace, sec.Name, got, key)
	}
	raw := sec.Annotations[VersionAnnotation]
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < 1 {
		return entry{}, fmt.Errorf("Secret %s/%s (state %q): annotation %s %q is not a version", sec.Namespace, sec.Name, key, VersionAnnotation, raw)
	}
	return entry{exists: true, version: v, value: backend.NonNil(sec.Data[ValueField]), secret: sec}, nil
}

// checkSize refuses a value no Secret can hold, naming the key, before anything is written.
func checkSize(key string, value []byte) error {
	if len(value) > MaxValueSize {
		return fmt.Errorf("%w: state %q: value of %d bytes is over the %d bytes a Kubernetes Secret holds",
			backend.ErrInvalid, key, len(value), MaxValueSize)
	}
	return nil
}
