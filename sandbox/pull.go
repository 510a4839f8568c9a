package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/podstate"
	corev1 "k8s.io/api/core/v1"
)

// pullConfig is the pull configuration pods' shims reuse.
func (r *Runtime) pullConfig() podstate.PullConfig {
	return podstate.PullConfig{AuthFile: r.opts.AuthFile, RegistriesConf: r.opts.RegistriesConf,
		RegistriesConfDir: r.opts.RegistriesConfDir, PolicyPath: r.opts.SignaturePolicy,
		StallTimeout: r.opts.PullStallTimeout}
}

// Pull pulls an image into the store with the runtime's registry
// configuration (auth file, registries.conf, signature policy), reporting
// progress to Options.PullProgress.
func (r *Runtime) Pull(ctx context.Context, ref string, tlsVerify *bool) (*image.Image, error) {
	o := r.pullConfig().Options()
	o.RegistryOnly = false // the CLI's image pull takes transports too
	o.TLSVerify = tlsVerify
	o.Progress = r.opts.PullProgress
	return r.store.Pull(ctx, ref, o)
}

// prePull pulls, concurrently and once per image, the images of the pod's
// containers whose imagePullPolicy asks for a pull now (Always; IfNotPresent
// when the image is absent; never under Never), before the shim starts, and
// records the outcome per container: that container's first start uses it
// instead of contacting the registry again. A failed pull does not stop the
// pod: the container shows ErrImagePull and the shim retries with back-off.
func (r *Runtime) prePull(ctx context.Context, pod *corev1.Pod) map[string]podstate.Prepulled {
	users := map[string][]string{} // image -> containers that need it pulled
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if _, err := image.NormalizeName(c.Image); err != nil {
			continue // the shim reports InvalidImageName
		}
		switch c.ImagePullPolicy {
		case corev1.PullAlways:
		case corev1.PullIfNotPresent:
			if _, err := r.store.Get(ctx, c.Image); err == nil {
				continue
			}
		default:
			continue
		}
		users[c.Image] = append(users[c.Image], c.Name)
	}
	out := map[string]podstate.Prepulled{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, ctrs := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			o := r.pullConfig().Options()
			o.Progress = r.opts.PullProgress
			_, err := r.store.Pull(ctx, name, o)
			pp := podstate.Prepulled{At: time.Now(), Took: time.Since(start)}
			if err != nil {
				pp.Err = err.Error()
				r.log.Warn("pull image", "image", name, "err", err)
			}
			mu.Lock()
			for _, c := range ctrs {
				out[c] = pp
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// ImageUsers returns the pods (namespace/name) whose containers use the
// image name resolves to.
func (r *Runtime) ImageUsers(ctx context.Context, name string) ([]string, error) {
	target, err := r.store.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	pods, err := r.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var users []string
	for _, p := range pods {
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			if img, err := r.store.Get(ctx, c.Image); err == nil && img.ID == target.ID {
				users = append(users, p.Namespace+"/"+p.Name)
				break
			}
		}
	}
	return users, nil
}

// ErrImageInUse is returned when removing an image a pod uses.
var ErrImageInUse = errors.New("image is in use")

// RemoveImage removes an image name. An image a pod uses is refused, naming
// the pod, unless force, which only untags it (the data goes once no pod
// uses it).
func (r *Runtime) RemoveImage(ctx context.Context, name string, force bool) error {
	users, err := r.ImageUsers(ctx, name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		if others, err := r.otherNames(ctx, name); err == nil && others > 0 {
			// Other names keep the image: this only untags.
			return r.store.Remove(ctx, name)
		}
		if !force {
			return fmt.Errorf("image %q is used by pod %s: %w (delete the pod first, or --force to untag it)", name, users[0], ErrImageInUse)
		}
		return r.store.Untag(ctx, name)
	}
	return r.store.Remove(ctx, name)
}

// PruneImages removes every image no pod uses, and every blob and layer
// nothing references.
func (r *Runtime) PruneImages(ctx context.Context) (image.PruneReport, error) {
	pods, err := r.List(ctx, "")
	if err != nil {
		return image.PruneReport{}, err
	}
	used := map[string]bool{}
	for _, p := range pods {
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			if img, err := r.store.Get(ctx, c.Image); err == nil {
				used[img.ID.String()] = true
			}
		}
	}
	return r.store.Prune(ctx, func(img *image.Image) bool { return used[img.ID.String()] })
}

// otherNames counts the store names other than name of the image name
// resolves to.
func (r *Runtime) otherNames(ctx context.Context, name string) (int, error) {
	target, err := r.store.Get(ctx, name)
	if err != nil {
		return 0, err
	}
	all, err := r.store.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, img := range all {
		if img.ID == target.ID && img.Name != target.Name {
			n++
		}
	}
	return n, nil
}
