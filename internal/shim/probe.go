package shim

import (
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// probeKind is one of the kubelet's three probes.
type probeKind int

const (
	startupProbe probeKind = iota
	livenessProbe
	readinessProbe
)

func (k probeKind) String() string {
	switch k {
	case startupProbe:
		return "Startup"
	case livenessProbe:
		return "Liveness"
	default:
		return "Readiness"
	}
}

// probes is the probe state of one instance: the workers stop when the
// instance exits (or the shim ends).
type probes struct {
	started chan struct{} // closed once the startup probe succeeded (or there is none)
}

// probeResult is what one run of a probe found.
type probeResult struct {
	ok      bool
	warning bool // succeeded, with something to say (an http redirect)
	output  string
}

// probeEv is a probe's result changing (or, for liveness and startup, its
// failure threshold being reached) for a live instance.
type probeEv struct {
	c    *ctr
	inst *instance
	kind probeKind
	ok   bool
	// msg, for a failure: the kubelet's event text.
	msg string
}

// startProbes starts the instance's probe workers, as the kubelet's prober
// does: startup first, then liveness and readiness once it succeeded.
func (s *shim) startProbes(c *ctr, inst *instance) {
	spec := c.spec
	if spec.StartupProbe == nil && spec.LivenessProbe == nil && spec.ReadinessProbe == nil {
		return
	}
	pr := &probes{started: make(chan struct{})}
	inst.probes = pr
	if spec.StartupProbe == nil || c.status.Started != nil && *c.status.Started {
		close(pr.started) // none, or passed before a shim take-over
	} else {
		s.probeWorker(c, inst, startupProbe, spec.StartupProbe)
	}
	if spec.LivenessProbe != nil {
		s.probeWorker(c, inst, livenessProbe, spec.LivenessProbe)
	}
	if spec.ReadinessProbe != nil {
		s.probeWorker(c, inst, readinessProbe, spec.ReadinessProbe)
	}
}

// probeWorker runs one probe of an instance every periodSeconds after
// initialDelaySeconds until the instance exits. It reports to the loop
// only when the result flips (after successThreshold successes or
// failureThreshold failures in a row), and every failure as an Unhealthy
// event.
func (s *shim) probeWorker(c *ctr, inst *instance, kind probeKind, p *corev1.Probe) {
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		if kind != startupProbe {
			select {
			case <-inst.probes.started:
			case <-inst.exited:
				return
			case <-s.ctx.Done():
				return
			}
		}
		period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
		// The first run waits for the initial delay, counted from the
		// container's start (as the kubelet counts it).
		first := time.Until(inst.started.Add(time.Duration(p.InitialDelaySeconds) * time.Second))
		if p.InitialDelaySeconds == 0 && kind != startupProbe {
			// Spread probes a little, as the kubelet does, but keep the
			// first run prompt.
			first = time.Duration(rand.Int64N(int64(100 * time.Millisecond)))
		}
		timer := time.NewTimer(max(first, 0))
		defer timer.Stop()
		// Readiness starts failed; liveness and startup act on failures
		// in a row, startup also on successes.
		ready := false
		succ, fail := 0, 0
		for {
			select {
			case <-timer.C:
			case <-inst.exited:
				return
			case <-s.ctx.Done():
				return
			}
			res := s.runProbe(c, inst, p)
			if res.ok {
				succ, fail = succ+1, 0
			} else {
				succ, fail = 0, fail+1
			}
			if !res.ok {
				s.event(corev1.EventTypeWarning, "Unhealthy", objectOf(c), fmt.Sprintf("%s probe failed: %s", kind, res.output))
				s.writeEvents()
			} else if res.warning {
				s.event(corev1.EventTypeWarning, "ProbeWarning", objectOf(c), fmt.Sprintf("%s probe warning: %s", kind, res.output))
				s.writeEvents()
			}
			passed := res.ok && succ >= int(max(p.SuccessThreshold, 1))
			failed := !res.ok && fail >= int(max(p.FailureThreshold, 1))
			switch {
			case kind == readinessProbe && (passed && !ready || failed && ready):
				ready = passed
				s.send(probeEv{c: c, inst: inst, kind: kind, ok: ready})
			case kind == startupProbe && passed:
				close(inst.probes.started)
				s.send(probeEv{c: c, inst: inst, kind: kind, ok: true})
				return // a startup probe runs until it first succeeds
			case kind != readinessProbe && failed:
				s.send(probeEv{c: c, inst: inst, kind: kind, msg: res.output})
				return // the instance is killed; its successor gets new workers
			}
			timer.Reset(period)
		}
	}()
}

func (e probeEv) handle(s *shim) {
	c, inst := e.c, e.inst
	if c.inst != inst || c.status.State.Running == nil {
		return // a result for an instance that is gone
	}
	switch e.kind {
	case readinessProbe:
		c.status.Ready = e.ok
	case startupProbe:
		if e.ok {
			t := true
			c.status.Started = &t
			c.status.Ready = c.spec.ReadinessProbe == nil
			s.sidecarMaybeUp(c, inst)
			return
		}
		fallthrough
	case livenessProbe:
		if e.ok || s.stopping || s.recreating {
			return
		}
		what := "liveness"
		if e.kind == startupProbe {
			what = "startup"
		}
		s.event(corev1.EventTypeNormal, "Killing", objectOf(c),
			fmt.Sprintf("Container %s failed %s probe, will be restarted", c.spec.Name, what))
		c.status.Ready = false
		grace := s.gracePeriod(nil)
		if p := probeOf(c.spec, e.kind); p != nil && p.TerminationGracePeriodSeconds != nil {
			grace = time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
		}
		s.workers.Add(1)
		go func() { defer s.workers.Done(); s.killInstance(inst, grace) }()
	}
}

func probeOf(spec *corev1.Container, kind probeKind) *corev1.Probe {
	switch kind {
	case startupProbe:
		return spec.StartupProbe
	case livenessProbe:
		return spec.LivenessProbe
	default:
		return spec.ReadinessProbe
	}
}
