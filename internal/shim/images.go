package shim

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/podstate"
	corev1 "k8s.io/api/core/v1"
)

// Waiting reasons of image problems, as the kubelet reports them.
const (
	reasonErrImagePull      = "ErrImagePull"
	reasonImagePullBackOff  = "ImagePullBackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
	reasonInvalidImageName  = "InvalidImageName"
)

// pulls makes concurrent starts of containers with the same image share one
// pull.
type pulls struct {
	mu      sync.Mutex
	flights map[string]*flight
}

type flight struct {
	done chan struct{}
	img  *image.Image
	err  error
}

// ensureImage gets the image of instance number restart of c as its
// imagePullPolicy says (the kubelet's EnsureImageExists): Never only looks
// in the store, IfNotPresent pulls when the image is absent, Always
// contacts the registry on every start. The first start may use what the
// CLI pulled just before starting the shim. On failure it returns the
// kubelet's waiting reason.
func (s *shim) ensureImage(c *ctr, restart int) (*image.Image, string, error) {
	name := c.spec.Image
	obj := objectOf(c)
	if _, err := image.NormalizeName(name); err != nil {
		msg := fmt.Errorf("Failed to apply default image tag %q: %w", name, err) //nolint:staticcheck // the kubelet's message
		s.event(corev1.EventTypeWarning, "InspectFailed", obj, msg.Error())
		return nil, reasonInvalidImageName, msg
	}
	if restart == 0 && s.rec.Prepulled != nil {
		s.pulls.mu.Lock()
		pp, ok := s.rec.Prepulled[name]
		first := ok && !s.prepulledUsed[c.spec.Name]
		if first {
			s.prepulledUsed[c.spec.Name] = true
		}
		s.pulls.mu.Unlock()
		if first {
			return s.usePrepulled(c, pp)
		}
	}
	policy := c.spec.ImagePullPolicy
	if policy != corev1.PullAlways {
		img, err := s.store.Get(s.ctx, name)
		switch {
		case err == nil:
			s.event(corev1.EventTypeNormal, "Pulled", obj, fmt.Sprintf("Container image %q already present on machine", name))
			return img, "", nil
		case !errors.Is(err, image.ErrNotFound):
			return nil, "CreateContainerError", err
		case policy == corev1.PullNever:
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", name)
			s.event(corev1.EventTypeWarning, reasonErrImageNeverPull, obj, msg)
			return nil, reasonErrImageNeverPull, errors.New(msg)
		}
	}
	return s.pullImage(c, name)
}

// usePrepulled turns the CLI's pull for the first start into what this
// start would have done.
func (s *shim) usePrepulled(c *ctr, pp podstate.Prepulled) (*image.Image, string, error) {
	name, obj := c.spec.Image, objectOf(c)
	if pp.Err != "" {
		s.event(corev1.EventTypeNormal, "Pulling", obj, fmt.Sprintf("Pulling image %q", name))
		s.event(corev1.EventTypeWarning, "Failed", obj, fmt.Sprintf("Failed to pull image %q: %s", name, pp.Err))
		return nil, reasonErrImagePull, errors.New(pp.Err)
	}
	img, err := s.store.Get(s.ctx, name)
	if err != nil {
		return s.pullImage(c, name) // removed meanwhile
	}
	if pp.Pulled {
		s.event(corev1.EventTypeNormal, "Pulling", obj, fmt.Sprintf("Pulling image %q", name))
		s.event(corev1.EventTypeNormal, "Pulled", obj, pulledMessage(name, pp.Took, img.Size))
	} else {
		s.event(corev1.EventTypeNormal, "Pulled", obj, fmt.Sprintf("Container image %q already present on machine", name))
	}
	return img, "", nil
}

// pullImage pulls, sharing the pull with concurrent starts of the same image.
func (s *shim) pullImage(c *ctr, name string) (*image.Image, string, error) {
	obj := objectOf(c)
	s.event(corev1.EventTypeNormal, "Pulling", obj, fmt.Sprintf("Pulling image %q", name))
	start := time.Now()
	s.pulls.mu.Lock()
	f, shared := s.pulls.flights[name]
	if !shared {
		f = &flight{done: make(chan struct{})}
		s.pulls.flights[name] = f
	}
	s.pulls.mu.Unlock()
	if !shared {
		f.img, f.err = s.store.Pull(s.ctx, name, s.rec.Pull.Options())
		s.pulls.mu.Lock()
		delete(s.pulls.flights, name)
		s.pulls.mu.Unlock()
		close(f.done)
	}
	<-f.done
	if f.err != nil {
		reason := reasonErrImagePull
		if errors.Is(f.err, image.ErrInvalidName) {
			reason = reasonInvalidImageName
		}
		s.event(corev1.EventTypeWarning, "Failed", obj, fmt.Sprintf("Failed to pull image %q: %v", name, f.err))
		return nil, reason, f.err
	}
	s.event(corev1.EventTypeNormal, "Pulled", obj, pulledMessage(name, time.Since(start), f.img.Size))
	return f.img, "", nil
}

func pulledMessage(name string, took time.Duration, size int64) string {
	return fmt.Sprintf("Successfully pulled image %q in %s. Image size: %d bytes.", name, took.Round(time.Millisecond), size)
}

// objectOf is how kubectl describe names a container in events.
func objectOf(c *ctr) string {
	if c.init {
		return fmt.Sprintf("spec.initContainers{%s}", c.spec.Name)
	}
	return fmt.Sprintf("spec.containers{%s}", c.spec.Name)
}

// imageProblem reports whether a waiting reason is an image problem that
// is retried with the image pull back-off.
func imageProblem(reason string) bool {
	return reason == reasonErrImagePull || reason == reasonErrImageNeverPull
}

// retryImage schedules another try at an image that could not be had: the
// kubelet's image back-off (keyed by the image; 10s doubling to 5m by
// default), showing ImagePullBackOff while it waits after a failed pull.
func (s *shim) retryImage(c *ctr, reason string) {
	key := "image/" + c.spec.Image
	s.backoff.next(key, time.Now())
	delay := s.backoff.current(key)
	c.timer = s.after(delay, c)
	if reason != reasonErrImagePull {
		return
	}
	show := time.Second
	if show > delay/2 {
		show = delay / 2
	}
	time.AfterFunc(show, func() { s.send(imageBackOffEv{c: c}) })
}

type imageBackOffEv struct{ c *ctr }

func (e imageBackOffEv) handle(s *shim) {
	w := e.c.status.State.Waiting
	if w == nil || w.Reason != reasonErrImagePull || e.c.timer == nil {
		return
	}
	msg := fmt.Sprintf("Back-off pulling image %q", e.c.spec.Image)
	e.c.status.State.Waiting = &corev1.ContainerStateWaiting{Reason: reasonImagePullBackOff, Message: msg}
	s.event(corev1.EventTypeNormal, "BackOff", objectOf(e.c), msg)
}

// event records a pod event (safe from any goroutine).
func (s *shim) event(typ, reason, object, message string) {
	now := time.Now()
	s.evmu.Lock()
	s.evlog = podstate.AddEvent(s.evlog, podstate.Event{Type: typ, Reason: reason, Object: object, Message: message, First: now, Last: now})
	s.evDirty = true
	s.evmu.Unlock()
}

// writeEvents persists the events if they changed.
func (s *shim) writeEvents() {
	s.evmu.Lock()
	defer s.evmu.Unlock()
	if !s.evDirty {
		return
	}
	if err := s.dir.WriteEvents(s.evlog); err != nil {
		s.log.Warn("write events", "err", err)
		return
	}
	s.evDirty = false
}
