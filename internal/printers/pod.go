package printers

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// nodeUnreachablePodReason is the pod status reason the node lifecycle
// controller sets on pods of an unreachable node (k8s.io/kubernetes
// pkg/util/node.NodeUnreachablePodReason).
const nodeUnreachablePodReason = "NodeLost"

// none is what kubectl prints for an empty wide column.
const none = "<none>"

// PodRow holds the cells of one `kubectl get pods` row, exactly as kubectl
// prints them: Ready is "ready/total", Restarts is "N" or "N (<age> ago)",
// Age is a kubectl duration ("5m", "3d4h") or "<unknown>", and the wide
// cells IP, Node, NominatedNode and ReadinessGates are "<none>" when empty.
type PodRow struct {
	Name, Ready, Status, Restarts, Age, IP, Node, NominatedNode, ReadinessGates string
}

// Row computes the row kubectl prints for pod, with ages measured at now.
func Row(pod *corev1.Pod, now time.Time) PodRow {
	t := tallyPod(pod)
	return PodRow{
		Name:           pod.Name,
		Ready:          fmt.Sprintf("%d/%d", t.ready, t.total),
		Status:         t.reason,
		Restarts:       formatRestarts(t.restarts, t.lastRestart, now),
		Age:            since(pod.CreationTimestamp.Time, now),
		IP:             orNone(podIP(pod)),
		Node:           orNone(pod.Spec.NodeName),
		NominatedNode:  orNone(pod.Status.NominatedNodeName),
		ReadinessGates: readinessGates(pod),
	}
}

// tally is what printPod accumulates while walking the container statuses.
type tally struct {
	reason       string
	ready, total int
	restarts     int
	lastRestart  time.Time
}

// tallyPod is the status part of kubectl's printPod.
func tallyPod(pod *corev1.Pod) tally {
	t := tally{total: len(pod.Spec.Containers), reason: string(pod.Status.Phase)}
	if pod.Status.Reason != "" {
		t.reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			t.reason = corev1.PodReasonSchedulingGated
		}
	}

	sidecars := make(map[string]bool)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			t.total++
		}
	}

	initializing, sidecarRestarts, sidecarLast := t.walkInit(pod, sidecars)
	if !initializing || initializedConditionTrue(pod.Status.Conditions) {
		// Once initialized, RESTARTS counts sidecars and regular containers
		// only: restarts of finished init containers are history.
		t.restarts, t.lastRestart = sidecarRestarts, sidecarLast
		t.walkContainers(pod)
	}

	if pod.DeletionTimestamp != nil {
		if pod.Status.Reason == nodeUnreachablePodReason {
			t.reason = "Unknown"
		} else if !terminalPhase(pod.Status.Phase) {
			t.reason = "Terminating"
		}
	}
	return t
}

// walkInit walks the init container statuses in order, skipping those that
// succeeded and started sidecars, and sets the Init:… reason from the first
// other one. It reports whether the pod is still initializing, and the
// restarts (and latest restart time) of the sidecars it walked.
func (t *tally) walkInit(pod *corev1.Pod, sidecars map[string]bool) (bool, int, time.Time) {
	var sidecarRestarts int
	var sidecarLast time.Time
	for i, cs := range pod.Status.InitContainerStatuses {
		t.restarts += int(cs.RestartCount)
		t.lastRestart = laterTermination(t.lastRestart, cs.LastTerminationState)
		sidecar := sidecars[cs.Name]
		if sidecar {
			sidecarRestarts += int(cs.RestartCount)
			sidecarLast = laterTermination(sidecarLast, cs.LastTerminationState)
		}
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case sidecar && cs.Started != nil && *cs.Started:
			if cs.Ready {
				t.ready++
			}
			continue
		case cs.State.Terminated != nil:
			term := cs.State.Terminated
			switch {
			case term.Reason != "":
				t.reason = "Init:" + term.Reason
			case term.Signal != 0:
				t.reason = fmt.Sprintf("Init:Signal:%d", term.Signal)
			default:
				t.reason = fmt.Sprintf("Init:ExitCode:%d", term.ExitCode)
			}
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			t.reason = "Init:" + cs.State.Waiting.Reason
		default:
			t.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		return true, sidecarRestarts, sidecarLast
	}
	return false, sidecarRestarts, sidecarLast
}

// walkContainers walks the regular container statuses from last to first, so
// the first container's state wins, and counts the ready running ones.
func (t *tally) walkContainers(pod *corev1.Pod) {
	hasRunning := false
	for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
		cs := pod.Status.ContainerStatuses[i]
		t.restarts += int(cs.RestartCount)
		t.lastRestart = laterTermination(t.lastRestart, cs.LastTerminationState)
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			t.reason = cs.State.Waiting.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Reason != "":
			t.reason = cs.State.Terminated.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Signal != 0:
			t.reason = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
		case cs.State.Terminated != nil:
			t.reason = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
		case cs.Ready && cs.State.Running != nil:
			hasRunning = true
			t.ready++
		}
	}
	// A pod whose first container completed while another still runs is
	// not Completed.
	if t.reason == "Completed" && hasRunning {
		if readyConditionTrue(pod.Status.Conditions) {
			t.reason = "Running"
		} else {
			t.reason = "NotReady"
		}
	}
}

// laterTermination returns the later of last and the finish time of state's
// termination, if it has one.
func laterTermination(last time.Time, state corev1.ContainerState) time.Time {
	if state.Terminated != nil && last.Before(state.Terminated.FinishedAt.Time) {
		return state.Terminated.FinishedAt.Time
	}
	return last
}

// readyConditionTrue reports whether any Ready condition is True (kubectl's
// hasPodReadyCondition).
func readyConditionTrue(conds []corev1.PodCondition) bool {
	for _, c := range conds {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// initializedConditionTrue reports whether the first Initialized condition
// is True (kubectl's isPodInitializedConditionTrue).
func initializedConditionTrue(conds []corev1.PodCondition) bool {
	for _, c := range conds {
		if c.Type == corev1.PodInitialized {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func terminalPhase(p corev1.PodPhase) bool {
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}

// formatRestarts prints the RESTARTS cell: "N", or "N (<age> ago)" when
// there were restarts and the last one's time is known.
func formatRestarts(restarts int, last, now time.Time) string {
	if restarts != 0 && !last.IsZero() {
		return fmt.Sprintf("%d (%s ago)", restarts, since(last, now))
	}
	return strconv.Itoa(restarts)
}

// since is kubectl's translateTimestampSince measured at now.
func since(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

// podIP is the first pod IP. The internal API kubectl prints from has only
// podIPs; converting from v1 fills it from podIP when podIPs is empty.
func podIP(pod *corev1.Pod) string {
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs[0].IP
	}
	return pod.Status.PodIP
}

// readinessGates prints "true/total" over spec.readinessGates, "<none>"
// when there are none.
func readinessGates(pod *corev1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return none
	}
	trueConditions := 0
	for _, gate := range pod.Spec.ReadinessGates {
		for _, c := range pod.Status.Conditions {
			if c.Type == gate.ConditionType {
				if c.Status == corev1.ConditionTrue {
					trueConditions++
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d/%d", trueConditions, len(pod.Spec.ReadinessGates))
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
