package printers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRowBranches covers the branches of printPod that upstream's tests do
// not reach; the expected values follow from the algorithm (and match what
// kubectl prints for such pods).
func TestRowBranches(t *testing.T) {
	oneInit := corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "app"}}}
	twoInit := corev1.PodSpec{InitContainers: []corev1.Container{{Name: "a"}, {Name: "b"}}, Containers: []corev1.Container{{Name: "app"}}}
	withSidecar := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}, {Name: "proxy", RestartPolicy: &always}},
		Containers:     []corev1.Container{{Name: "app"}},
	}
	appWaiting := []corev1.ContainerStatus{{Name: "app", State: waiting("PodInitializing")}}
	tests := []struct {
		name string
		pod  corev1.Pod
		want cols
	}{
		{
			name: "init terminated with reason",
			pod: corev1.Pod{Spec: oneInit, Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", RestartCount: 1, State: terminated("Error", 1, 0)}},
				ContainerStatuses:     appWaiting,
			}},
			want: cols{"0/1", "Init:Error", "1"},
		},
		{
			name: "init terminated by signal without reason",
			pod: corev1.Pod{Spec: oneInit, Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: terminated("", 137, 9)}},
				ContainerStatuses:     appWaiting,
			}},
			want: cols{"0/1", "Init:Signal:9", "0"},
		},
		{
			name: "init terminated with exit code without reason",
			pod: corev1.Pod{Spec: oneInit, Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: terminated("", 3, 0)}},
				ContainerStatuses:     appWaiting,
			}},
			want: cols{"0/1", "Init:ExitCode:3", "0"},
		},
		{
			name: "init waiting in back-off",
			pod: corev1.Pod{Spec: twoInit, Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", State: terminated("Completed", 0, 0)},
					{Name: "b", RestartCount: 4, State: waiting("CrashLoopBackOff"), LastTerminationState: lastTerm(90 * time.Second)},
				},
				ContainerStatuses: appWaiting,
			}},
			want: cols{"0/1", "Init:CrashLoopBackOff", "4 (90s ago)"},
		},
		{
			name: "init waiting for image",
			pod: corev1.Pod{Spec: oneInit, Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: waiting("ErrImagePull")}},
				ContainerStatuses:     appWaiting,
			}},
			want: cols{"0/1", "Init:ErrImagePull", "0"},
		},
		{
			name: "init waiting PodInitializing counts as not started",
			pod: corev1.Pod{Spec: twoInit, Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", State: terminated("Completed", 0, 0)},
					{Name: "b", State: waiting("PodInitializing")},
				},
				ContainerStatuses: appWaiting,
			}},
			want: cols{"0/1", "Init:1/2", "0"},
		},
		{
			name: "all init done, app creating",
			pod: corev1.Pod{Spec: twoInit, Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", RestartCount: 2, State: terminated("Completed", 0, 0), LastTerminationState: lastTerm(time.Minute)},
					{Name: "b", State: terminated("Completed", 0, 0)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("ContainerCreating")}},
			}},
			want: cols{"0/1", "ContainerCreating", "0"},
		},
		{
			name: "sidecar started and ready counts toward READY",
			pod: corev1.Pod{Spec: withSidecar, Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "init", State: terminated("Completed", 0, 0)},
					{Name: "proxy", Ready: true, Started: ptr(true), RestartCount: 1, State: running, LastTerminationState: lastTerm(3 * time.Hour)},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", Ready: true, RestartCount: 2, State: running, LastTerminationState: lastTerm(4 * time.Hour)},
				},
				Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
			}},
			want: cols{"2/2", "Running", "3 (3h ago)"},
		},
		{
			name: "sidecar started but not ready",
			pod: corev1.Pod{Spec: withSidecar, Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "init", State: terminated("Completed", 0, 0)},
					{Name: "proxy", Started: ptr(true), State: running},
				},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running}},
			}},
			want: cols{"1/2", "Running", "0"},
		},
		{
			name: "regular init restarts are not counted once initialized",
			pod: corev1.Pod{Spec: withSidecar, Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "init", RestartCount: 5, State: terminated("Completed", 0, 0), LastTerminationState: lastTerm(time.Minute)},
					{Name: "proxy", Ready: true, Started: ptr(true), State: running},
				},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running}},
			}},
			want: cols{"2/2", "Running", "0"},
		},
		{
			name: "sidecar crash-looping after initialization keeps Init reason",
			pod: corev1.Pod{Spec: withSidecar, Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "init", State: terminated("Completed", 0, 0)},
					{Name: "proxy", Started: ptr(false), RestartCount: 3, State: waiting("CrashLoopBackOff"), LastTerminationState: lastTerm(30 * time.Second)},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", Ready: true, RestartCount: 1, State: running, LastTerminationState: lastTerm(time.Hour)},
				},
				Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
			}},
			want: cols{"1/2", "Init:CrashLoopBackOff", "4 (30s ago)"},
		},
		{
			name: "app container terminated by signal without reason",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase:             corev1.PodFailed,
				ContainerStatuses: []corev1.ContainerStatus{{State: terminated("", 137, 9)}},
			}},
			want: cols{"0/1", "Signal:9", "0"},
		},
		{
			name: "app container exit code without reason",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase:             corev1.PodFailed,
				ContainerStatuses: []corev1.ContainerStatus{{State: terminated("", 2, 0)}},
			}},
			want: cols{"0/1", "ExitCode:2", "0"},
		},
		{
			name: "OOMKilled",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase:             corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{{RestartCount: 1, State: terminated("OOMKilled", 137, 0), LastTerminationState: lastTerm(2 * time.Minute)}},
			}},
			want: cols{"0/1", "OOMKilled", "1 (2m ago)"},
		},
		{
			name: "restarts without a finish time print no age",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{{Ready: true, RestartCount: 2, State: running,
					LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}},
			}},
			want: cols{"1/1", "Running", "2"},
		},
		{
			name: "evicted",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
				Phase:  corev1.PodFailed,
				Reason: "Evicted",
			}},
			want: cols{"0/1", "Evicted", "0"},
		},
		{
			name: "node lost while deleting",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(time.Minute)},
				Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					Reason:            "NodeLost",
					ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running}},
				}},
			want: cols{"1/1", "Unknown", "0"},
		},
		{
			name: "failed with deletion is not Terminating",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(time.Minute)},
				Spec: corev1.PodSpec{Containers: containers(1)}, Status: corev1.PodStatus{
					Phase:             corev1.PodFailed,
					ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Error", 1, 0)}},
				}},
			want: cols{"0/1", "Error", "0"},
		},
		{
			name: "initializing with deletion",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: agoPtr(time.Minute)},
				Spec: oneInit, Status: corev1.PodStatus{
					Phase:                 corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: running}},
					ContainerStatuses:     appWaiting,
				}},
			want: cols{"0/1", "Terminating", "0"},
		},
		{
			name: "first Initialized condition decides",
			pod: corev1.Pod{Spec: oneInit, Status: corev1.PodStatus{
				Phase:                 corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: running}},
				ContainerStatuses:     []corev1.ContainerStatus{{Name: "app", State: waiting("ContainerCreating")}},
				Conditions: []corev1.PodCondition{
					{Type: corev1.PodInitialized, Status: corev1.ConditionFalse},
					{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
				},
			}},
			want: cols{"0/1", "Init:0/1", "0"},
		},
		{
			name: "any true Ready condition turns Completed into Running",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers(2)}, Status: corev1.PodStatus{
				Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("Completed", 0, 0)},
					{Ready: true, State: running},
				},
				Conditions: []corev1.PodCondition{
					{Type: corev1.PodReady, Status: corev1.ConditionFalse},
					{Type: corev1.PodReady, Status: corev1.ConditionTrue},
				},
			}},
			want: cols{"1/2", "Running", "0"},
		},
		{
			name: "empty pod",
			pod:  corev1.Pod{},
			want: cols{"0/0", "", "0"},
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

// TestRowWide holds the cases of upstream TestPrintPodwide plus the podIP
// fallback.
func TestRowWide(t *testing.T) {
	gates := []corev1.PodReadinessGate{{ConditionType: "condition1"}, {ConditionType: "condition2"}, {ConditionType: "condition3"}}
	gateConds := []corev1.PodCondition{
		{Type: "condition1", Status: corev1.ConditionFalse},
		{Type: "condition2", Status: corev1.ConditionTrue},
	}
	statuses := []corev1.ContainerStatus{{Ready: true, RestartCount: 3, State: running}, {RestartCount: 3}}
	tests := []struct {
		name string
		pod  corev1.Pod
		want PodRow
	}{
		{
			name: "node and IP set",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec: corev1.PodSpec{Containers: containers(2), NodeName: "test1", ReadinessGates: gates},
				Status: corev1.PodStatus{Conditions: gateConds, Phase: "podPhase", PodIPs: []corev1.PodIP{{IP: "1.1.1.1"}},
					ContainerStatuses: statuses, NominatedNodeName: "node1"}},
			want: PodRow{"test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"},
		},
		{
			name: "dual stack prints the first IP",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "test1"},
				Spec: corev1.PodSpec{Containers: containers(2), NodeName: "test1", ReadinessGates: gates},
				Status: corev1.PodStatus{Conditions: gateConds, Phase: "podPhase", PodIPs: []corev1.PodIP{{IP: "1.1.1.1"}, {IP: "2001:db8::"}},
					ContainerStatuses: statuses, NominatedNodeName: "node1"}},
			want: PodRow{"test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"},
		},
		{
			name: "node and IP none",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "test2"},
				Spec: corev1.PodSpec{Containers: containers(2)},
				Status: corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 3, State: running},
					{State: waiting("ContainerWaitingReason"), RestartCount: 3},
				}}},
			want: PodRow{"test2", "1/2", "ContainerWaitingReason", "6", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "podIP without podIPs",
			pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "test3", CreationTimestamp: ago(90 * time.Minute)},
				Spec:   corev1.PodSpec{Containers: containers(1), NodeName: "host"},
				Status: corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.88.0.4"}},
			want: PodRow{"test3", "0/1", "Pending", "0", "90m", "10.88.0.4", "host", "<none>", "<none>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Row(&tt.pod, now)); diff != "" {
				t.Errorf("Row() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRowAge checks AGE against upstream TestTranslateTimestampSince and
// HumanDuration's ranges.
func TestRowAge(t *testing.T) {
	tests := []struct {
		created metav1.Time
		want    string
	}{
		{metav1.Time{}, "<unknown>"},
		{metav1.NewTime(now.Add(2100 * time.Millisecond)), "<invalid>"},
		{metav1.NewTime(now.Add(1900 * time.Millisecond)), "0s"},
		{ago(0), "0s"},
		{ago(30 * time.Second), "30s"},
		{ago(119 * time.Second), "119s"},
		{ago(5 * time.Minute), "5m"},
		{ago(5*time.Minute + 7*time.Second), "5m7s"},
		{ago(100 * time.Minute), "100m"},
		{ago(4*time.Hour + 30*time.Minute), "4h30m"},
		{ago(30 * time.Hour), "30h"},
		{ago(2 * 24 * time.Hour), "2d"},
		{ago(3*24*time.Hour + 5*time.Hour), "3d5h"},
		{ago(90 * 24 * time.Hour), "90d"},
		{ago(10 * 365 * 24 * time.Hour), "10y"},
	}
	for _, tt := range tests {
		pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: tt.created}}
		if got := Row(&pod, now).Age; got != tt.want {
			t.Errorf("Age for creation %v before now = %q, want %q", now.Sub(tt.created.Time), got, tt.want)
		}
	}
}
