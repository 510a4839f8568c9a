package printers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// now is the fixed "current time" of every test.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func ptr[T any](v T) *T { return &v }

var always = corev1.ContainerRestartPolicyAlways

var (
	running    = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waitingNil = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
)

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, exit, signal int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exit, Signal: signal}}
}

// lastTerm is a lastState whose termination finished d before now.
func lastTerm(d time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: ago(d)}}
}

// cols are the columns whose computation is the printPod algorithm.
type cols struct{ Ready, Status, Restarts string }

func colsOf(r PodRow) cols { return cols{r.Ready, r.Status, r.Restarts} }

func containers(n int) []corev1.Container { return make([]corev1.Container, n) }

// TestRowUpstream holds the cases of kubernetes printers_test.go
// TestPrintPod, TestPrintNonTerminatedPod and TestPrintPodConditions, with
// upstream's expected cells. Upstream measures ages from time.Now(); here
// "now" is fixed.
func TestRowUpstream(t *testing.T) {
	tests := []struct {
		name string
		pod  corev1.Pod
		want cols
	}{
		{
			name: "test1 restarts and ready count",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{RestartCount: 3},
				},
			}},
			want: cols{"1/2", "podPhase", "6"},
		},
		{
			name: "test2 container waiting reason overwrites pod phase",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{State: waiting("ContainerWaitingReason"), RestartCount: 3},
				},
			}},
			want: cols{"1/2", "ContainerWaitingReason", "6"},
		},
		{
			name: "test3 first container overwrites the rest",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				ContainerStatuses: []corev1.ContainerStatus{
					{State: waiting("ContainerWaitingReason"), RestartCount: 3},
					{State: terminated("ContainerTerminatedReason", 0, 0), RestartCount: 3},
				},
			}},
			want: cols{"0/2", "ContainerWaitingReason", "6"},
		},
		{
			name: "test4 ready is not enough for running",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{Ready: true, RestartCount: 3},
				},
			}},
			want: cols{"1/2", "podPhase", "6"},
		},
		{
			name: "test5 pod reason overwrites phase",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Reason: "podReason",
				Phase:  "podPhase",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{Ready: true, RestartCount: 3},
				},
			}},
			want: cols{"1/2", "podReason", "6"},
		},
		{
			name: "test6 completed and running without Ready condition",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "Running",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: terminated("Completed", 0, 0)},
					{Ready: true, RestartCount: 3, State: running},
				},
			}},
			want: cols{"1/2", "NotReady", "6"},
		},
		{
			name: "test6 completed and running with Ready condition",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "Running",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: terminated("Completed", 0, 0)},
					{Ready: true, RestartCount: 3, State: running},
				},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			}},
			want: cols{"1/2", "Running", "6"},
		},
		{
			name: "test7 init container restarting",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers(1), Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				InitContainerStatuses: []corev1.ContainerStatus{
					{RestartCount: 3, State: running, LastTerminationState: lastTerm(10 * time.Second)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waitingNil}},
			}},
			want: cols{"0/1", "Init:0/1", "3 (10s ago)"},
		},
		{
			name: "test8 two init containers, first restarting",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers(2), Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				InitContainerStatuses: []corev1.ContainerStatus{
					{RestartCount: 3, State: running, LastTerminationState: lastTerm(10 * time.Second)},
					{State: waitingNil},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waitingNil}},
			}},
			want: cols{"0/1", "Init:0/2", "3 (10s ago)"},
		},
		{
			name: "test9 first init completed, second restarting",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers(2), Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				InitContainerStatuses: []corev1.ContainerStatus{
					{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}},
					{RestartCount: 3, State: running, LastTerminationState: lastTerm(10 * time.Second)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waitingNil}},
			}},
			want: cols{"0/1", "Init:1/2", "3 (10s ago)"},
		},
		{
			name: "test10 first init completed with restarts, second restarting",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers(2), Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				InitContainerStatuses: []corev1.ContainerStatus{
					{RestartCount: 2, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}, LastTerminationState: lastTerm(2 * time.Minute)},
					{RestartCount: 3, State: running, LastTerminationState: lastTerm(10 * time.Second)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waitingNil}},
			}},
			want: cols{"0/1", "Init:1/2", "5 (10s ago)"},
		},
		{
			name: "test11 init completed with restarts, container restarting",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers(1), Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: "Running",
				InitContainerStatuses: []corev1.ContainerStatus{
					{RestartCount: 2, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}, LastTerminationState: lastTerm(2 * time.Minute)},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{RestartCount: 4, State: running, LastTerminationState: lastTerm(20 * time.Second)},
				},
			}},
			want: cols{"0/1", "Running", "4 (20s ago)"},
		},
		{
			name: "test12 restarted 5d ago",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: "Running",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running, LastTerminationState: lastTerm(5 * 24 * time.Hour)},
				},
			}},
			want: cols{"1/1", "Running", "3 (5d ago)"},
		},
		{
			name: "test13 one never restarted, other 10d ago",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "Running",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, State: running},
					{Ready: true, RestartCount: 3, State: running, LastTerminationState: lastTerm(10 * 24 * time.Hour)},
				},
			}},
			want: cols{"2/2", "Running", "3 (10d ago)"},
		},
		{
			name: "test14 latest of 5d and 20d ago",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "Running",
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 6, State: running, LastTerminationState: lastTerm(5 * 24 * time.Hour)},
					{Ready: true, RestartCount: 3, State: running, LastTerminationState: lastTerm(20 * 24 * time.Hour)},
				},
			}},
			want: cols{"2/2", "Running", "9 (5d ago)"},
		},
		{
			name: "test15 SchedulingGated",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: "podPhase",
				Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated},
				},
			}},
			want: cols{"0/2", "SchedulingGated", "0"},
		},
		{
			name: "test16 succeeded",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase:             corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Completed", 0, 0)}},
			}},
			want: cols{"0/1", "Completed", "0"},
		},
		{
			name: "test17 failed",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase:             corev1.PodFailed,
				ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Error", 1, 0)}},
			}},
			want: cols{"0/1", "Error", "0"},
		},
		{
			name: "test18 succeeded with deletion is not Terminating",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(10 * time.Second)},
				Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
					Phase:             corev1.PodSucceeded,
					ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Completed", 0, 0)}},
				}},
			want: cols{"0/1", "Completed", "0"},
		},
		{
			name: "test19 running with deletion",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(10 * time.Second)},
				Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
					Phase:             "Running",
					ContainerStatuses: []corev1.ContainerStatus{{State: running}},
				}},
			want: cols{"0/1", "Terminating", "0"},
		},
		{
			name: "test20 pending with deletion",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(10 * time.Second)},
				Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{Phase: "Pending"}},
			want: cols{"0/1", "Terminating", "0"},
		},
		// TestPrintNonTerminatedPod and TestPrintPodConditions: the phase is
		// printed as is when no container has a reason.
		{
			name: "phase Pending",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{RestartCount: 3},
				},
			}},
			want: cols{"1/2", "Pending", "6"},
		},
		{
			name: "phase Unknown",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: corev1.PodUnknown,
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{RestartCount: 3},
				},
			}},
			want: cols{"1/2", "Unknown", "6"},
		},
		{
			name: "phase Succeeded",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{RestartCount: 3},
				},
			}},
			want: cols{"1/2", "Succeeded", "6"},
		},
		{
			name: "phase Failed",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: corev1.PodFailed,
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{Ready: true, RestartCount: 3},
				},
			}},
			want: cols{"1/2", "Failed", "6"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := colsOf(Row(&tt.pod, now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Row() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRowSidecars holds the cases of upstream
// TestPrintPodWithRestartableInitContainer.
func TestRowSidecars(t *testing.T) {
	twoSidecars := corev1.PodSpec{
		InitContainers: []corev1.Container{
			{Name: "restartable-init-1", RestartPolicy: &always},
			{Name: "restartable-init-2", RestartPolicy: &always},
		},
		Containers: containers(1),
	}
	initialized := func(s corev1.ConditionStatus) []corev1.PodCondition {
		return []corev1.PodCondition{{Type: corev1.PodInitialized, Status: s}}
	}
	tests := []struct {
		name string
		pod  corev1.Pod
		want cols
	}{
		{
			name: "first sidecar running but not started",
			pod: corev1.Pod{Spec: twoSidecars, Status: corev1.PodStatus{
				Phase: "Pending",
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "restartable-init-1", RestartCount: 3, State: running, Started: ptr(false), LastTerminationState: lastTerm(10 * time.Second)},
					{Name: "restartable-init-2", State: waitingNil, Started: ptr(false)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waitingNil}},
				Conditions:        initialized(corev1.ConditionFalse),
			}},
			want: cols{"0/3", "Init:0/2", "3 (10s ago)"},
		},
		{
			name: "first sidecar started, second running but not started",
			pod: corev1.Pod{Spec: twoSidecars, Status: corev1.PodStatus{
				Phase: "Pending",
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "restartable-init-1", RestartCount: 3, State: running, Started: ptr(true), LastTerminationState: lastTerm(10 * time.Second)},
					{Name: "restartable-init-2", State: running, Started: ptr(false)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waitingNil}},
				Conditions:        initialized(corev1.ConditionFalse),
			}},
			want: cols{"0/3", "Init:1/2", "3 (10s ago)"},
		},
		{
			name: "both sidecars started, container running",
			pod: corev1.Pod{Spec: twoSidecars, Status: corev1.PodStatus{
				Phase: "Running",
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "restartable-init-1", RestartCount: 3, State: running, Started: ptr(true), LastTerminationState: lastTerm(10 * time.Second)},
					{Name: "restartable-init-2", State: running, Started: ptr(true)},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 4, State: running, LastTerminationState: lastTerm(20 * time.Second)},
				},
				Conditions: initialized(corev1.ConditionTrue),
			}},
			want: cols{"1/3", "Running", "7 (10s ago)"},
		},
		{
			name: "sidecars terminated non-zero, container completed",
			pod: corev1.Pod{Spec: twoSidecars, Status: corev1.PodStatus{
				Phase: "Succeeded",
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "restartable-init-1", RestartCount: 3, State: terminated("Error", 137, 0), Started: ptr(false), LastTerminationState: lastTerm(10 * time.Second)},
					{Name: "restartable-init-2", State: terminated("Error", 137, 0), Started: ptr(false)},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{RestartCount: 4, State: terminated("Completed", 0, 0), LastTerminationState: lastTerm(20 * time.Second)},
				},
				Conditions: initialized(corev1.ConditionTrue),
			}},
			want: cols{"0/3", "Completed", "7 (10s ago)"},
		},
		{
			name: "statuses for containers not in the spec",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{
						{Name: "init1", Image: "initimage"},
						{Name: "sidecar1", Image: "sidecarimage", RestartPolicy: &always},
					},
					Containers: []corev1.Container{{Name: "container1", Image: "containerimage"}},
				},
				Status: corev1.PodStatus{
					Phase:                 "Running",
					InitContainerStatuses: []corev1.ContainerStatus{{Name: "initinvalid"}, {Name: "init1"}, {Name: "sidecar1"}},
					ContainerStatuses:     []corev1.ContainerStatus{{Name: "containerinvalid"}, {Name: "container1"}},
				},
			},
			want: cols{"0/2", "Init:0/2", "0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := colsOf(Row(&tt.pod, now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Row() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
