package printers

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event is one folded event of a pod (the same shape as podstate.Event;
// printers must not import podstate): Count repeats of the same event, the
// first seen at First and the last at Last. Object is the field path of the
// part of the pod it is about, such as "spec.containers{app}", or empty.
type Event struct {
	Type, Reason, Object, Message string
	Count                         int
	First, Last                   time.Time
}

// eventSource is the From column of every podbox event (kubelet events say
// "kubelet").
const eventSource = "podbox"

// kubectl describe's tabwriter settings (tabbedString in
// k8s.io/kubectl/pkg/describe/describe.go); they differ from get's.
const (
	describeMinWidth = 0
	describeTabWidth = 8
	describePadding  = 2
)

// annotationMaxLen is where kubectl describe folds and cuts an annotation
// (maxAnnotationLen).
const annotationMaxLen = 140

// Describe writes what `kubectl describe pod` prints for pod and its events
// at time now: a port of kubectl's describePod and DescribeEvents
// (k8s.io/kubectl/pkg/describe) with the same sections, nesting (two spaces
// per level), tabwriter settings, terminal escaping and ages, so that the
// output is byte for byte kubectl's for the same pod and events. Events are
// sorted by their last time, From is "podbox", and an event's Object is put
// before its message as kubectl (1.35 and later) does with an event's field
// path. Times print in their own location: a pod decoded from JSON has them
// in the local zone, as kubectl has. Nothing in pod is changed.
func Describe(w io.Writer, pod *corev1.Pod, events []Event, now time.Time) error {
	tw := tabwriter.NewWriter(w, describeMinWidth, describeTabWidth, describePadding, ' ', 0)
	d := &describer{out: tw, tw: tw, now: now}
	d.header(pod)
	d.body(pod)
	d.events(events)
	d.flush()
	if d.err != nil {
		return fmt.Errorf("describe pod %s/%s: %w", pod.Namespace, pod.Name, d.err)
	}
	return nil
}

// describer is kubectl's prefixWriter: it writes to out, normally the
// tabwriter tw, and keeps the first write error.
type describer struct {
	out io.Writer
	tw  *tabwriter.Writer
	now time.Time
	err error
}

// write writes format at an indentation of two spaces per level, with
// terminal control characters escaped (kubectl's prefixWriter.Write).
func (d *describer) write(level int, format string, a ...any) {
	if d.err != nil {
		return
	}
	s := strings.Repeat("  ", level) + fmt.Sprintf(format, a...)
	_, d.err = terminalEscaper.WriteString(d.out, s)
}

// flush flushes the tabwriter, ending every column block.
func (d *describer) flush() {
	if d.err == nil && d.tw != nil {
		d.err = d.tw.Flush()
	}
}

func (d *describer) since(t time.Time) string { return since(t, d.now) }

func (d *describer) header(pod *corev1.Pod) {
	d.write(0, "Name:\t%s\n", pod.Name)
	d.write(0, "Namespace:\t%s\n", pod.Namespace)
	spec, status := &pod.Spec, &pod.Status
	if spec.Priority != nil {
		d.write(0, "Priority:\t%d\n", *spec.Priority)
	}
	if spec.PriorityClassName != "" {
		d.write(0, "Priority Class Name:\t%s\n", spec.PriorityClassName)
	}
	if spec.RuntimeClassName != nil && *spec.RuntimeClassName != "" {
		d.write(0, "Runtime Class Name:\t%s\n", *spec.RuntimeClassName)
	}
	if spec.ServiceAccountName != "" {
		d.write(0, "Service Account:\t%s\n", spec.ServiceAccountName)
	}
	if spec.NodeName == "" {
		d.write(0, "Node:\t<none>\n")
	} else {
		d.write(0, "Node:\t%s\n", spec.NodeName+"/"+status.HostIP)
	}
	if status.StartTime != nil {
		d.write(0, "Start Time:\t%s\n", formatTime(status.StartTime.Time))
	}
	d.labels("Labels", pod.Labels)
	d.annotations(pod.Annotations)
	if pod.DeletionTimestamp != nil && !terminalPhase(status.Phase) {
		d.write(0, "Status:\tTerminating (lasts %s)\n", d.since(pod.DeletionTimestamp.Time))
		// kubectl dereferences the grace period unchecked; the API server
		// always sets it together with the deletion timestamp.
		if pod.DeletionGracePeriodSeconds != nil {
			d.write(0, "Termination Grace Period:\t%ds\n", *pod.DeletionGracePeriodSeconds)
		}
	} else {
		d.write(0, "Status:\t%s\n", status.Phase)
	}
	if status.Reason != "" {
		d.write(0, "Reason:\t%s\n", status.Reason)
	}
	if status.Message != "" {
		d.write(0, "Message:\t%s\n", status.Message)
	}
	if sc := spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		d.seccomp(0, sc.SeccompProfile)
	}
	// The API server keeps podIP equal to podIPs[0]; fill it from podIPs
	// for a pod that has only those.
	ip := status.PodIP
	if ip == "" && len(status.PodIPs) > 0 {
		ip = status.PodIPs[0].IP
	}
	d.write(0, "IP:\t%s\n", ip)
	if len(status.PodIPs) == 0 {
		d.write(0, "IPs:\t<none>\n")
	} else {
		d.write(0, "IPs:\n")
		for _, ip := range status.PodIPs {
			d.write(1, "IP:\t%s\n", ip.IP)
		}
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		d.write(0, "Controlled By:\t%s/%s\n", ref.Kind, ref.Name)
	}
	if status.NominatedNodeName != "" {
		d.write(0, "NominatedNodeName:\t%s\n", status.NominatedNodeName)
	}
	if spec.Resources != nil {
		d.write(0, "Resources:\n")
		d.resources(spec.Resources, 1)
	}
}

func (d *describer) body(pod *corev1.Pod) {
	if len(pod.Spec.InitContainers) > 0 {
		d.containers("Init Containers", pod.Spec.InitContainers, pod.Status.InitContainerStatuses, pod)
	}
	d.containers("Containers", pod.Spec.Containers, pod.Status.ContainerStatuses, pod)
	if len(pod.Spec.EphemeralContainers) > 0 {
		ec := make([]corev1.Container, len(pod.Spec.EphemeralContainers))
		for i := range pod.Spec.EphemeralContainers {
			ec[i] = corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		}
		d.containers("Ephemeral Containers", ec, pod.Status.EphemeralContainerStatuses, pod)
	}
	if len(pod.Spec.ReadinessGates) > 0 {
		d.write(0, "Readiness Gates:\n  Type\tStatus\n")
		for _, g := range pod.Spec.ReadinessGates {
			status := none
			for _, c := range pod.Status.Conditions {
				if c.Type == g.ConditionType {
					status = string(c.Status)
					break
				}
			}
			d.write(1, "%v \t%v \n", g.ConditionType, status)
		}
	}
	if len(pod.Status.Conditions) > 0 {
		d.write(0, "Conditions:\n  Type\tStatus\n")
		for _, c := range pod.Status.Conditions {
			d.write(1, "%v \t%v \n", c.Type, c.Status)
		}
	}
	d.volumes(pod.Spec.Volumes)
	d.write(0, "QoS Class:\t%s\n", podQOS(pod))
	d.labels("Node-Selectors", pod.Spec.NodeSelector)
	d.tolerations(pod.Spec.Tolerations)
	d.topologySpread(pod.Spec.TopologySpreadConstraints)
	if g := pod.Spec.SchedulingGroup; g != nil {
		d.write(0, "SchedulingGroup:\n")
		d.write(1, "PodGroupName:\t%s\n", deref(g.PodGroupName))
	}
}

// labels is kubectl's printLabelsMultiline: sorted key=value lines, the
// first after the title, the rest in the value column.
func (d *describer) labels(title string, labels map[string]string) {
	d.write(0, "%s:\t", title)
	if len(labels) == 0 {
		d.write(0, "<none>\n")
		return
	}
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i != 0 {
			d.write(0, "\t")
		}
		d.write(0, "%s=%s\n", k, labels[k])
	}
}

// annotations is kubectl's printAnnotationsMultiline: long or multi-line
// values go on their own lines, each cut at annotationMaxLen-2 characters.
func (d *describer) annotations(annotations map[string]string) {
	d.write(0, "Annotations:\t")
	var keys []string
	for k := range annotations {
		if k != corev1.LastAppliedConfigAnnotation { // kubectl never shows it
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		d.write(0, "<none>\n")
		return
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i != 0 {
			d.write(0, "\t")
		}
		v := strings.TrimSuffix(annotations[k], "\n")
		if len(v)+len(k)+2 <= annotationMaxLen && !strings.Contains(v, "\n") {
			d.write(0, "%s: %s\n", k, v)
			continue
		}
		d.write(0, "%s:\n", k)
		for _, line := range strings.Split(v, "\n") {
			if len(line) > annotationMaxLen-2 {
				line = line[:annotationMaxLen-2] + "..."
			}
			d.write(0, "\t  %s\n", line)
		}
	}
}

// tolerations is kubectl's printTolerationsMultilineWithIndent, sorted by
// key (on a copy: kubectl sorts the pod's own slice).
func (d *describer) tolerations(tolerations []corev1.Toleration) {
	d.write(0, "Tolerations:\t")
	if len(tolerations) == 0 {
		d.write(0, "<none>\n")
		return
	}
	sorted := slices.Clone(tolerations)
	slices.SortStableFunc(sorted, func(a, b corev1.Toleration) int { return cmp.Compare(a.Key, b.Key) })
	for i, t := range sorted {
		if i != 0 {
			d.write(0, "\t")
		}
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		if t.Effect != "" {
			s += ":" + string(t.Effect)
		}
		// operator Exists with no value tolerates everything.
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			if t.Key != "" || t.Effect != "" {
				s += " "
			}
			s += "op=Exists"
		}
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" for %ds", *t.TolerationSeconds)
		}
		d.write(0, "%s\n", s)
	}
}

func (d *describer) topologySpread(tscs []corev1.TopologySpreadConstraint) {
	if len(tscs) == 0 {
		return
	}
	sorted := slices.Clone(tscs)
	slices.SortStableFunc(sorted, func(a, b corev1.TopologySpreadConstraint) int {
		return cmp.Compare(a.TopologyKey, b.TopologyKey)
	})
	d.write(0, "Topology Spread Constraints:\t")
	for i, c := range sorted {
		if i != 0 {
			d.write(0, "\t")
		}
		d.write(0, "%s:%v when max skew %d is exceeded", c.TopologyKey, c.WhenUnsatisfiable, c.MaxSkew)
		if c.LabelSelector != nil {
			d.write(0, " for selector %s", metav1.FormatLabelSelector(c.LabelSelector))
		}
		d.write(0, "\n")
	}
}

func (d *describer) seccomp(level int, p *corev1.SeccompProfile) {
	d.write(level, "SeccompProfile:\t%s\n", p.Type)
	if p.Type == corev1.SeccompProfileTypeLocalhost {
		// A pod-level profile's path is on the same level, a
		// container's one level deeper (as kubectl prints them).
		sub := level
		if level > 0 {
			sub++
		}
		d.write(sub, "LocalhostProfile:\t%s\n", deref(p.LocalhostProfile))
	}
}

// resources is kubectl's describeResources: limits, then requests, each
// sorted by name.
func (d *describer) resources(r *corev1.ResourceRequirements, level int) {
	for _, l := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Limits", r.Limits}, {"Requests", r.Requests}} {
		if len(l.list) == 0 {
			continue
		}
		d.write(level, "%s:\n", l.title)
		for _, name := range slices.Sorted(maps.Keys(l.list)) {
			q := l.list[name]
			d.write(level+1, "%s:\t%s\n", name, q.String())
		}
	}
}

// events is kubectl's DescribeEvents for podbox's folded events.
func (d *describer) events(events []Event) {
	if len(events) == 0 {
		d.write(0, "Events:\t<none>\n")
		return
	}
	d.flush()
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b Event) int { return a.Last.Compare(b.Last) })
	d.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
	d.write(1, "----\t------\t----\t----\t-------\n")
	for _, e := range sorted {
		age := d.since(e.First)
		if e.Count > 1 {
			age = fmt.Sprintf("%s (x%d over %s)", d.since(e.Last), e.Count, age)
		}
		msg := strings.TrimSpace(e.Message)
		if e.Object != "" {
			msg = e.Object + ": " + msg
		}
		d.write(1, "%v\t%v\t%s\t%v\t%v\n", e.Type, e.Reason, age, eventSource, msg)
	}
}

// formatTime prints a time as kubectl describe does (RFC 1123 with a
// numeric zone).
func formatTime(t time.Time) string { return t.Format(time.RFC1123Z) }

// describeProbe is kubectl's DescribeProbe.
func describeProbe(p *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds successThreshold=%d failureThreshold=%d",
		p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
	switch {
	case p.Exec != nil:
		return fmt.Sprintf("exec %v %s", p.Exec.Command, attrs)
	case p.HTTPGet != nil:
		u := &url.URL{Scheme: strings.ToLower(string(p.HTTPGet.Scheme)), Host: p.HTTPGet.Host, Path: p.HTTPGet.Path}
		if port := p.HTTPGet.Port.String(); port != "" {
			u.Host = net.JoinHostPort(p.HTTPGet.Host, port)
		}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.TCPSocket.Host, p.TCPSocket.Port.String(), attrs)
	case p.GRPC != nil:
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GRPC.Port, deref(p.GRPC.Service), attrs)
	}
	return "unknown " + attrs
}

// podQOS is kubectl's qos.GetPodQOS: status.qosClass, or else the class
// computed from the requests and limits of cpu and memory.
func podQOS(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	if pod.Spec.Resources != nil && podLevelResourcesSet(pod.Spec.Resources) {
		return requirementsQOS(pod.Spec.Resources)
	}
	var class corev1.PodQOSClass
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			switch c := requirementsQOS(&cs[i].Resources); {
			case c == corev1.PodQOSBurstable:
				return c
			case class == "":
				class = c
			case class != c:
				return corev1.PodQOSBurstable
			}
		}
	}
	return cmp.Or(class, corev1.PodQOSBestEffort)
}

// podLevelResourcesSet is component-helpers' IsPodLevelResourcesSet.
func podLevelResourcesSet(r *corev1.ResourceRequirements) bool {
	for _, list := range []corev1.ResourceList{r.Requests, r.Limits} {
		for name := range list {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory ||
				strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
				return true
			}
		}
	}
	return false
}

// requirementsQOS is the class of one set of requirements: BestEffort
// when cpu and memory have neither, Guaranteed when both have equal
// non-zero requests and limits, Burstable otherwise.
func requirementsQOS(r *corev1.ResourceRequirements) corev1.PodQOSClass {
	if len(r.Requests) == 0 && len(r.Limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	var class corev1.PodQOSClass
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := r.Requests[name], r.Limits[name]
		c := corev1.PodQOSGuaranteed
		switch {
		case !req.Equal(lim):
			return corev1.PodQOSBurstable
		case req.IsZero():
			c = corev1.PodQOSBestEffort
		}
		if class != "" && class != c {
			return corev1.PodQOSBurstable
		}
		class = c
	}
	return class
}

// resourceFieldValue is kubectl's ExtractContainerResourceValue: the
// container's request or limit in units of the divisor, rounded up.
func resourceFieldValue(fs *corev1.ResourceFieldSelector, c *corev1.Container) (string, bool) {
	divisor := fs.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	kind, name, _ := strings.Cut(fs.Resource, ".")
	list := c.Resources.Limits
	switch kind {
	case "requests":
		list = c.Resources.Requests
	case "limits":
	default:
		return "", false
	}
	q := list[corev1.ResourceName(name)]
	var v float64
	switch {
	case name == string(corev1.ResourceCPU):
		v = float64(q.MilliValue()) / float64(divisor.MilliValue())
	case name == string(corev1.ResourceMemory), name == string(corev1.ResourceEphemeralStorage),
		strings.HasPrefix(name, corev1.ResourceHugePagesPrefix):
		v = float64(q.Value()) / float64(divisor.Value())
	default:
		return "", false
	}
	return strconv.FormatInt(int64(math.Ceil(v)), 10), true
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
