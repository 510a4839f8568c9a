package image

import (
	"errors"
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// PullOptions configure where and how an image is pulled.
type PullOptions struct {
	// AuthFile overrides the credentials file. Empty: containers/image's own
	// search, as podman and skopeo do ($REGISTRY_AUTH_FILE,
	// ${XDG_RUNTIME_DIR}/containers/auth.json, $HOME/.docker/config.json, ...).
	AuthFile string
	// TLSVerify false allows plain HTTP / unverified TLS for the registry of
	// this pull only (podman's --tls-verify=false); true insists on verified
	// TLS. nil: as registries.conf says (insecure = true works).
	TLSVerify *bool
	// RegistriesConf and RegistriesConfDir override
	// /etc/containers/registries.conf and registries.conf.d (mirrors,
	// insecure and blocked registries). A path given that does not exist is
	// an error.
	RegistriesConf, RegistriesConfDir string
	// PolicyPath overrides /etc/containers/policy.json. If the default file
	// is missing, anything is accepted; an explicit path that is missing is
	// an error.
	PolicyPath string
	// Name names an image from a transport that carries none (oci: without
	// a tag, dir:, an unnamed archive), as Load's Name does.
	Name string
	// Progress, when set, receives per-layer events. It may be called from
	// another goroutine than Pull's and holds the pull up while it runs:
	// keep it cheap.
	Progress func(PullEvent)
	// RegistryOnly takes ref as an image name only, never as a transport
	// reference: pod specs name registry images ("oci:v1" is
	// docker.io/library/oci:v1 there, not a local OCI layout).
	RegistryOnly bool
	// StallTimeout cancels a pull that makes no progress (no manifest, no
	// layer bytes) for this long, as containerd's image_pull_progress_timeout
	// does; 0 means DefaultStallTimeout, negative means never.
	StallTimeout time.Duration
}

// DefaultStallTimeout is how long a pull may make no progress.
const DefaultStallTimeout = 5 * time.Minute

// ErrStalled is returned (wrapped) by a pull cancelled for lack of progress.
var ErrStalled = errors.New("no progress")

// PullEventKind says what a PullEvent reports.
type PullEventKind int

const (
	// PullManifest: the manifest is resolved; Layer is its digest (for a
	// registry, the repo digest), Size its length.
	PullManifest PullEventKind = iota + 1
	// PullLayerStart: a layer download starts; Size is its length if the
	// manifest says, else -1.
	PullLayerStart
	// PullLayerProgress: Offset bytes of the layer have been read.
	PullLayerProgress
	// PullLayerDone: the layer is downloaded and its digest verified.
	PullLayerDone
	// PullLayerSkipped: the store has the layer already; nothing is
	// downloaded.
	PullLayerSkipped
)

// String names the kind: "manifest", "start", "progress", "done", "skipped".
func (k PullEventKind) String() string {
	switch k {
	case PullManifest:
		return "manifest"
	case PullLayerStart:
		return "start"
	case PullLayerProgress:
		return "progress"
	case PullLayerDone:
		return "done"
	case PullLayerSkipped:
		return "skipped"
	}
	return fmt.Sprintf("PullEventKind(%d)", int(k))
}

// PullEvent is one progress report of a Pull.
type PullEvent struct {
	Image  string // the normalised name being pulled
	Kind   PullEventKind
	Layer  digest.Digest // the blob (for PullManifest, the manifest)
	Size   int64         // total bytes, -1 if unknown
	Offset int64         // bytes so far
}
