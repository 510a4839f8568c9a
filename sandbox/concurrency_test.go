package sandbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// Stop requests that arrive while the pod finishes by itself are all
// answered, and the shim exits (it used to hang on one that came in during
// its teardown).
func TestStopsWhileThePodFinishes(t *testing.T) {
	e := newEnv(t)
	for round := 0; round < 3; round++ {
		name := fmt.Sprintf("brief-%d", round)
		e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `}, spec: {restartPolicy: Never, containers: [{name: a, image: ` + testImage + `, command: [sleep, "0.3"]}]}}`)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(200+10*i) * time.Millisecond)
				if err := e.rt.Stop(ctx, "default", name, sandbox.StopOptions{}); err != nil {
					t.Errorf("stop %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		cancel()
		p, err := e.rt.Get(context.Background(), "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			t.Errorf("%s: phase %s after the stops", name, p.Status.Phase)
		}
	}
	// The shims are gone (checked by the env's cleanup too).
	if l := e.sandboxLeaks("brief-0"); len(l) > 0 {
		t.Errorf("left: %v", l)
	}
}

// Two deletes racing a new run of the same name never tear down the new
// pod.
func TestDeletesRacingARun(t *testing.T) {
	e := newEnv(t)
	manifest := `{apiVersion: v1, kind: Pod, metadata: {name: re}, spec: {terminationGracePeriodSeconds: 0, containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}]}}`
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		e.run(manifest)
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); _ = e.rt.Delete(ctx, "default", "re", sandbox.DeleteOptions{}) }()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(round*5) * time.Millisecond)
			_, _ = e.rt.Run(ctx, pod(t, manifest))
		}()
		wg.Wait()
		// Whatever the order, a pod that exists is whole: running, and exec works.
		p, err := e.rt.Get(ctx, "default", "re")
		if err != nil {
			continue // the run came first and a delete took it
		}
		if p.Status.Phase != corev1.PodRunning {
			t.Fatalf("round %d: surviving pod is %s: %+v", round, p.Status.Phase, p.Status)
		}
		if out, code := e.exec("re", "a", "true"); code != 0 {
			t.Fatalf("round %d: exec in the surviving pod: %q %d", round, out, code)
		}
		if err := e.rt.Delete(ctx, "default", "re", sandbox.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.assertClean()
}

// delete --force during a graceful stop cuts the wait short.
func TestShorterGraceCutsAStopShort(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: slow}, spec: {terminationGracePeriodSeconds: 30, containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	stopped := make(chan error, 1)
	go func() { stopped <- e.rt.Stop(context.Background(), "default", "slow", sandbox.StopOptions{}) }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := e.rt.Delete(context.Background(), "default", "slow", sandbox.DeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("delete --force during a 30s graceful stop took %v", took)
	}
	if err := <-stopped; err != nil {
		t.Errorf("the stop: %v", err)
	}
	e.assertClean()
}

// Stopping a pod whose shim died leaves it Failed with containers the
// kubelet would call ContainerStatusUnknown, not Unknown forever.
func TestStopAfterShimDied(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: lost}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	e.wait("lost", sandbox.PodReady)
	killShimAndKeeper(t, e, "lost")
	eventually(t, 5*time.Second, func() string {
		p, _ := e.rt.Get(context.Background(), "default", "lost")
		if p.Status.Phase != corev1.PodUnknown {
			return "phase " + string(p.Status.Phase)
		}
		return ""
	})
	one := int64(1)
	if err := e.rt.Stop(context.Background(), "default", "lost", sandbox.StopOptions{GracePeriod: &one}); err != nil {
		t.Fatal(err)
	}
	p, err := e.rt.Get(context.Background(), "default", "lost")
	if err != nil {
		t.Fatal(err)
	}
	term := p.Status.ContainerStatuses[0].State.Terminated
	if p.Status.Phase != corev1.PodFailed || term == nil || term.Reason != "ContainerStatusUnknown" || term.ExitCode != -1 {
		t.Errorf("after stop: phase %s, state %+v", p.Status.Phase, p.Status.ContainerStatuses[0].State)
	}
	if l := e.sandboxLeaks("lost"); len(l) > 0 {
		t.Errorf("stopped pod still holds: %v", l)
	}
}
