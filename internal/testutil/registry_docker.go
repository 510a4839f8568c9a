package testutil

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/crypto/bcrypt"
)

// DockerRegistryBinary is Debian's docker-registry (CNCF distribution 2.8).
const DockerRegistryBinary = "/usr/bin/docker-registry"

// StartDockerRegistry starts Debian's docker-registry on a free 127.0.0.1
// port, plain HTTP, storing in a temporary directory. With a user, every
// request needs that user and password (htpasswd, bcrypt); Push and
// SystemContext use them. It fails the test if docker-registry is not
// installed, and stops the registry in the test's cleanup.
func StartDockerRegistry(t testing.TB, user, pass string) *Registry {
	t.Helper()
	if _, err := os.Stat(DockerRegistryBinary); err != nil {
		t.Fatalf("%s is missing (%v): apt-get install docker-registry", DockerRegistryBinary, err)
	}
	dir := t.TempDir()
	r := &Registry{user: user, pass: pass, root: filepath.Join(dir, "storage"), cacheDir: filepath.Join(dir, "cache")}
	for _, d := range []string{r.root, r.cacheDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	htpasswd := ""
	if user != "" {
		// The lowest cost: the registry checks the password on every request.
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd = filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for range 3 { // the free port may be taken before the registry binds it
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		r.host = fmt.Sprintf("127.0.0.1:%d", port)
		if lastErr = startDockerRegistry(t, r, dir, htpasswd); lastErr == nil {
			return r
		}
	}
	t.Fatal(lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startDockerRegistry(t testing.TB, r *Registry, dir, htpasswd string) error {
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: podbox-test
`, r.root, r.host)
	if htpasswd != "" {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: podbox-test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(DockerRegistryBinary, "serve", cfgPath)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} // no REGISTRY_* overrides from the host
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", DockerRegistryBinary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return fmt.Errorf("docker-registry on %s exited: %s", r.host, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := client.Get("http://" + r.host + "/v2/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
			t.Cleanup(stop)
			return nil
		}
	}
	stop()
	return fmt.Errorf("docker-registry on %s did not answer within 10s: %s", r.host, strings.TrimSpace(out.String()))
}

// BlobFile is where a registry from StartDockerRegistry stores the blob d:
// a test may change it to serve corrupt content.
func (r *Registry) BlobFile(d digest.Digest) string {
	return filepath.Join(r.root, "docker", "registry", "v2", "blobs", d.Algorithm().String(), d.Encoded()[:2], d.Encoded(), "data")
}
