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

// prepulledFresh is how long the CLI's pull for a container stands in for
// the pull of its first start: a container that starts later (behind long
// init containers) contacts the registry itself, as on a node.
const prepulledFresh = time.Minute

// errStopping ends a start that finished getting its image after the pod
// was told to stop.
var errStopping = errors.New("the pod is stopping")

// ensureImage gets the image of instance number restart of c as its
// imagePullPolicy says (the kubelet's EnsureImageExists): Never only looks
// in the store, IfNotPresent pulls when the image is absent, Always
// contacts the registry on every start. When the policy asks for a pull,
// the first start uses the pull the CLI made for this container moments
// before. On failure it returns the kubelet's waiting reason.
func (s *shim) ensureImage(c *ctr, restart int) (*image.Image, string, error) {
	name := c.spec.Image
	obj := objectOf(c)
	if _, err := image.NormalizeName(name); err != nil {
		msg := fmt.Errorf("Failed to apply default image tag %q: %w", name, err) //nolint:staticcheck // the kubelet's message
		s.event(corev1.EventTypeWarning, "InspectFailed", obj, msg.Error())
		return nil, reasonInvalidImageName, msg
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
	if pp, ok := s.takePrepulled(c, restart); ok {
		s.event(corev1.EventTypeNormal, "Pulling", obj, fmt.Sprintf("Pulling image %q", name))
		if pp.Err != "" {
			s.event(corev1.EventTypeWarning, "Failed", obj, fmt.Sprintf("Failed to pull image %q: %s", name, pp.Err))
			return nil, reasonErrImagePull, errors.New(pp.Err)
		}
		if img, err := s.store.Get(s.ctx, name); err == nil {
			s.event(corev1.EventTypeNormal, "Pulled", obj, pulledMessage(name, pp.Took, img.Size))
			return img, "", nil
		}
		// Removed since: pull it after all.
	}
	return s.pullImage(c, name)
}

// takePrepulled returns the CLI's pull for c's first start, once, if recent.
func (s *shim) takePrepulled(c *ctr, restart int) (podstate.Prepulled, bool) {
	if restart != 0 {
		return podstate.Prepulled{}, false
	}
	s.pulls.mu.Lock()
	defer s.pulls.mu.Unlock()
	pp, ok := s.rec.Prepulled[c.spec.Name]
	if !ok || s.prepulledUsed[c.spec.Name] || time.Since(pp.At) > prepulledFresh {
		return podstate.Prepulled{}, false
	}
	s.prepulledUsed[c.spec.Name] = true
	return pp, true
}

// pullImage pulls, sharing the pull with concurrent starts of the same
// image. A stop of the pod cancels it.
func (s *shim) pullImage(c *ctr, name string) (*image.Image, string, error) {
	obj := objectOf(c)
	s.event(corev1.EventTypeNormal, "Pulling", obj, fmt.Sprintf("Pulling image %q", name))
	s.writeEvents() // a pull can take long: show that it runs
	start := time.Now()
	s.pulls.mu.Lock()
	f, shared := s.pulls.flights[name]
	if !shared {
		f = &flight{done: make(chan struct{})}
		s.pulls.flights[name] = f
	}
	s.pulls.mu.Unlock()
	if !shared {
		f.img, f.err = s.pullVia(s.pullCtx, name)
		s.pulls.mu.Lock()
		delete(s.pulls.flights, name)
		s.pulls.mu.Unlock()
		close(f.done)
	}
	<-f.done
	if s.pullCtx.Err() != nil {
		return nil, "", errStopping
	}
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

// retryImage schedules another try at an image that could not be had. A
// failed pull waits out the kubelet's image back-off (per image: 10s
// doubling to 5m by default; containers that shared the failed pull take one
// step together), showing ImagePullBackOff meanwhile. ErrImageNeverPull is
// retried at a fixed interval, like a kubelet's periodic sync. Either way an
// image that appears in the store is noticed sooner (recheckImages).
func (s *shim) retryImage(c *ctr, reason string) {
	if reason == reasonErrImageNeverPull {
		c.timer = s.after(s.backoff.base, c)
		return
	}
	key := "image/" + c.spec.Image
	now := time.Now()
	if e, ok := s.backoff.entries[key]; !ok || now.Sub(e.lastUpdate) > time.Second {
		s.backoff.next(key, now)
	}
	delay := s.backoff.current(key)
	c.timer = s.after(delay, c)
	show := time.Second
	if show > delay/2 {
		show = delay / 2
	}
	time.AfterFunc(show, func() { s.send(imageBackOffEv{c: c}) })
}

// recheckImages starts the containers waiting for an image that their
// policy lets them take from the store, as soon as it is there (an image
// load, an import, another pod's pull), instead of at the end of the
// back-off. It reports whether it started any.
func (s *shim) recheckImages() bool {
	if s.stopping {
		return false
	}
	changed := false
	for _, c := range s.ctrs {
		w := c.status.State.Waiting
		if c.timer == nil || w == nil || c.spec.ImagePullPolicy == corev1.PullAlways {
			continue
		}
		switch w.Reason {
		case reasonErrImagePull, reasonImagePullBackOff, reasonErrImageNeverPull:
		default:
			continue
		}
		if _, err := s.store.Get(s.ctx, c.spec.Image); err != nil {
			continue
		}
		c.timer.Stop()
		c.timer = nil
		s.startCtr(c)
		changed = true
	}
	return changed
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
