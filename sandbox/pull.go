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
		RegistriesConfDir: r.opts.RegistriesConfDir, PolicyPath: r.opts.SignaturePolicy}
}

// Pull pulls an image into the store with the runtime's registry
// configuration (auth file, registries.conf, signature policy), reporting
// progress to Options.PullProgress.
func (r *Runtime) Pull(ctx context.Context, ref string, tlsVerify *bool) (*image.Image, error) {
	o := r.pullConfig().Options()
	o.TLSVerify = tlsVerify
	o.Progress = r.opts.PullProgress
	return r.store.Pull(ctx, ref, o)
}

// prePull pulls, concurrently, every image of the pod that its containers'
// imagePullPolicy asks for (Always; IfNotPresent when absent; never under
// Never), before the shim starts: the containers' first start uses the
// result instead of pulling again. A failed pull does not stop the pod: its
// containers show ErrImagePull and the shim retries with back-off.
func (r *Runtime) prePull(ctx context.Context, pod *corev1.Pod) map[string]podstate.Prepulled {
	policies := map[string]corev1.PullPolicy{}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if strongerPolicy(c.ImagePullPolicy, policies[c.Image]) {
			policies[c.Image] = c.ImagePullPolicy
		}
	}
	out := map[string]podstate.Prepulled{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, policy := range policies {
		if _, err := image.NormalizeName(name); err != nil || policy == corev1.PullNever {
			continue // the shim reports InvalidImageName / looks the image up itself
		}
		if policy == corev1.PullIfNotPresent {
			if _, err := r.store.Get(ctx, name); err == nil {
				out[name] = podstate.Prepulled{}
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			_, err := r.Pull(ctx, name, nil)
			pp := podstate.Prepulled{Pulled: true, Took: time.Since(start)}
			if err != nil {
				pp.Err = err.Error()
				r.log.Warn("pull image", "image", name, "err", err)
			}
			mu.Lock()
			out[name] = pp
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// strongerPolicy orders pull policies: Always > IfNotPresent > Never > "".
func strongerPolicy(a, b corev1.PullPolicy) bool {
	rank := map[corev1.PullPolicy]int{corev1.PullAlways: 3, corev1.PullIfNotPresent: 2, corev1.PullNever: 1}
	return rank[a] > rank[b]
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
