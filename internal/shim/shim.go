package shim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// How the shim is started: argv[1] is Arg, the environment names the pod's
// state directory and the inherited fd on which to report readiness.
const (
	Arg        = "shim"
	EnvPodDir  = "_PODBOX_SHIM_POD_DIR"
	EnvReadyFD = "_PODBOX_SHIM_READY_FD"
	// EnvLockFD names the inherited fd of the pod's shim lock, taken by
	// the CLI when it created the pod and held by the shim from then on.
	EnvLockFD = "_PODBOX_SHIM_LOCK_FD"
	// EnvKeeperFD names the shim's end of its keeper's socket, set by the
	// keeper; EnvKeeperExeFD the fd of the binary the keeper runs as the
	// shim, set by whoever starts the keeper.
	EnvKeeperFD    = "_PODBOX_SHIM_KEEPER_FD"
	EnvKeeperExeFD = "_PODBOX_KEEPER_EXE_FD"
	// KeeperArg is the pause binary's argument that makes it a keeper.
	KeeperArg = "keep"
)

// Protocol is the version of what a shim understands of a pod's record,
// which it reports when the pod is up: a CLI refuses an older shim (one
// that would ignore the pod's network, say). 2: CNI networks, pull helper.
// 3: security contexts, sysctls, Localhost seccomp profiles, container
// resources (an older shim would run them unlimited).
const Protocol = 3

// IsShim reports whether this process was started as a pod shim.
func IsShim() bool {
	return len(os.Args) > 1 && os.Args[1] == Arg && os.Getenv(EnvPodDir) != ""
}

// shim is the supervisor's state. Everything below the event loop line is
// owned by the loop goroutine.
type shim struct {
	dir    podstate.Dir
	rec    *podstate.Record
	pod    *corev1.Pod
	roots  podstate.Roots
	log    *slog.Logger
	store  *image.Store
	reap   *reaper
	keeper *keeperConn // nil without a keeper

	hostIP   string
	cg       *cgroups.Pod
	ns       runtime.Namespaces
	hostname string
	etc      etcFiles
	shm      string
	pause    *runtime.Container
	pauseP   *runtime.Proc
	vols     podVolumes // the pod's volumes (volumes.go)

	// The pod's network: netReady is closed once the CNI ADD is done
	// (netErr and the addresses, netIPsOf, are set before; podIPs, the
	// loop's copy, by the network event).
	netReady chan struct{}
	netErr   error
	podIPs   []string

	// activeDeadlineSeconds: its timer, and whether it ran out (the pod
	// then fails with reason DeadlineExceeded).
	deadlineTimer    *time.Timer
	deadlineExceeded bool
	// sidecarsEnding: nothing but sidecars will run again; they are being
	// stopped and are not restarted.
	sidecarsEnding bool

	pauseLaunched bool          // launchPause was called (by the loop)
	pauseTimer    *time.Timer   // wakes the loop when pause is due (pauseDue); loop-owned
	pauseUp       bool          // pause started (loop-owned)
	pauseFailures int           // pause starts that failed in a row (loop-owned)
	pauseReady    chan struct{} // closed when startPause returned
	pauseErr      error         // its result, readable after pauseReady
	pauseExited   chan struct{} // closed when pause exited

	events chan event
	ctx    context.Context
	cancel context.CancelFunc
	// pullCtx is cancelled when the pod is told to stop: pulls under way end.
	pullCtx    context.Context
	pullCancel context.CancelFunc
	workers    sync.WaitGroup

	// --- owned by the event loop ---
	ctrs      []*ctr
	byName    map[string]*ctr
	backoff   *backOff
	phase     corev1.PodPhase
	conds     map[corev1.PodConditionType]corev1.PodCondition
	startTime metav1.Time
	initDone  bool
	stopping  bool
	// recreating: pause died; the containers are being killed so that a new
	// sandbox can be built and everything run again (rebuildSandbox).
	recreating   bool
	stopDeadline time.Time // when the running stop SIGKILLs
	deleting     *metav1.Time
	waiters      []chan<- response
	// cleaning: instances that exited, cleaned up in the background (a
	// sandbox teardown waits for them: waitCleanups).
	cleaning []*instance

	pulls         pulls
	prepulledUsed map[string]bool // first starts that used the CLI's pull

	// Events for kubectl describe, written with the status.
	evmu    sync.Mutex
	evlog   []podstate.Event
	evDirty bool

	// Request handling: done is closed when the pod is finished (late
	// requests are answered then); acceptDone when the listener stopped.
	done       chan struct{}
	acceptDone chan struct{}
	conns      sync.WaitGroup
	ready      *os.File // the CLI's readiness pipe, until answered
	failed     error    // why the pod could not start (reported to the CLI)
}

// Main is the body of a shim process; it returns the exit code.
//
// It must run on the main goroutine (sandbox.Init is called from an init
// function or first thing in main). It wires that goroutine to the main
// thread for good: libcontainer runs goroutines on threads that it moves
// into a container's mount namespace and never unlocks, and a locked thread
// that ends is discarded unless it is the main thread, which the Go runtime
// wedges instead, leaving the process (everything that reads /proc/self)
// inside the container's mount namespace.
func Main() int {
	goruntime.LockOSThread()
	// The keeper runs us through a /proc/<pid>/fd path, which ps would show
	// as the command's name.
	_ = os.WriteFile("/proc/self/comm", []byte("podbox-shim"), 0)
	dir := podstate.Dir(os.Getenv(EnvPodDir))
	// Inherited descriptors must not reach the containers.
	inherited := func(env string) int {
		fd, err := strconv.Atoi(os.Getenv(env))
		if err != nil || fd < 3 {
			return -1
		}
		unix.CloseOnExec(fd)
		return fd
	}
	var ready *os.File
	if fd := inherited(EnvReadyFD); fd >= 0 {
		ready = os.NewFile(uintptr(fd), "ready")
	}
	var keeper *keeperConn
	if fd := inherited(EnvKeeperFD); fd >= 0 {
		keeper = dialKeeper(fd)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var lock *os.File
	if fd := inherited(EnvLockFD); fd >= 0 {
		lock = os.NewFile(uintptr(fd), "shim.lock")
	} else {
		var err error
		if lock, err = dir.HoldShimLock(); err != nil {
			// Another shim runs the pod: nothing for this one to do.
			reportReady(ready, err)
			keeper.bye()
			return 1
		}
	}
	defer lock.Close()
	s, err := newShim(dir, log)
	if err != nil {
		reportReady(ready, err)
		keeper.bye()
		return 1
	}
	s.ready = ready
	s.keeper = keeper
	code := s.run()
	// Ending on purpose: the keeper must not start another shim. (A shim
	// that crashes never gets here, and the keeper replaces it.)
	keeper.bye()
	return code
}

// reportReady tells the CLI that started the shim whether the pod is up.
func reportReady(ready *os.File, err error) {
	if ready == nil {
		return
	}
	msg := fmt.Sprintf("ok %d\n", Protocol)
	if err != nil {
		// One line: the CLI reads one (a plugin's or iptables' message
		// may span several).
		text := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
		msg = "error: " + text + "\n"
	}
	_, _ = ready.WriteString(msg)
	ready.Close()
}

func newShim(dir podstate.Dir, log *slog.Logger) (*shim, error) {
	rec, err := dir.ReadRecord()
	if err != nil {
		return nil, err
	}
	store, err := image.Open(image.Options{Root: rec.Roots.Root})
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pullCtx, pullCancel := context.WithCancel(ctx)
	s := &shim{
		pullCtx: pullCtx, pullCancel: pullCancel,
		dir: dir, rec: rec, pod: rec.Pod, roots: rec.Roots, log: log, store: store,
		reap:    newReaper(),
		events:  make(chan event, 64),
		ctx:     ctx,
		cancel:  cancel,
		byName:  map[string]*ctr{},
		backoff: newBackOff(rec.BackOffBase, rec.BackOffMax),
		conds:   map[corev1.PodConditionType]corev1.PodCondition{},
		done:    make(chan struct{}),
		pulls:   pulls{flights: map[string]*flight{}},

		prepulledUsed: map[string]bool{},
		phase:         corev1.PodPending,
	}
	for i := range rec.Pod.Spec.InitContainers {
		s.addCtr(&rec.Pod.Spec.InitContainers[i], true, i)
	}
	for i := range rec.Pod.Spec.Containers {
		s.addCtr(&rec.Pod.Spec.Containers[i], false, i)
	}
	return s, nil
}

func (s *shim) addCtr(spec *corev1.Container, init bool, idx int) {
	c := &ctr{spec: spec, init: init, index: idx}
	c.status = corev1.ContainerStatus{Name: spec.Name, Image: spec.Image}
	reason := "ContainerCreating"
	if len(s.pod.Spec.InitContainers) > 0 {
		reason = "PodInitializing"
	}
	c.status.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason}
	s.ctrs = append(s.ctrs, c)
	s.byName[spec.Name] = c
}

// run builds the sandbox, starts the first containers, reports readiness
// and supervises the pod until it is stopped or finished.
func (s *shim) run() int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		reportReady(s.ready, fmt.Errorf("become child subreaper: %w", err))
		return 1
	}
	stopReaper := make(chan struct{})
	go s.reap.run(stopReaper)
	defer close(stopReaper)

	prev, err := s.dir.ReadStatus()
	if err != nil {
		reportReady(s.ready, err)
		return 1
	}
	recovered := false
	switch {
	case prev.Final:
		// Finished before its shim died: nothing to supervise.
		reportReady(s.ready, nil)
		return 0
	case prev.Supervisor != nil:
		// A shim ran this pod and died: take over from where it was.
		s.recover(prev)
		recovered = true
	case prev.ShimPID != 0:
		// A shim of a podbox without take-over ran it: what it left is not
		// enough to take over from (the CLI tears such a pod down).
		err := errors.New("the pod's shim died, and it was started by a podbox that cannot be taken over from")
		reportReady(s.ready, err)
		return 1
	default:
		s.startTime = metav1.Now()
		s.hostIP = HostIP()
		s.event(corev1.EventTypeNormal, "Scheduled", "", fmt.Sprintf("Successfully assigned %s/%s to %s", s.pod.Namespace, s.pod.Name, s.pod.Spec.NodeName))
		if err := s.createSandbox(); err != nil {
			s.log.Error("create sandbox", "err", err)
			s.teardownSandbox() // waits for a network attachment under way
			reportReady(s.ready, err)
			return 1
		}
		if !usesCNI(s.rec) {
			s.setCondition(corev1.PodReadyToStartContainers, true, "", "")
		}
	}

	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, unix.SIGTERM, unix.SIGINT)
	signal.Ignore(unix.SIGHUP, unix.SIGPIPE)
	srv, err := s.serve()
	if err != nil {
		s.teardownSandbox()
		reportReady(s.ready, err)
		return 1
	}

	s.advance()
	s.armDeadline()
	if s.inFlight() == 0 && s.pauseDue() {
		s.launchPause() // taken over from a shim that died before it did
	}
	s.writeStatus(false)
	if recovered {
		// The pod was up already: whoever started this shim waits only
		// for it to have taken over.
		s.signalReady()
	}
	code := s.loop(sigc)
	if s.deadlineTimer != nil {
		s.deadlineTimer.Stop()
	}
	// Requests that came in late are answered once the pod is finished;
	// then no more come in, and the answers are written before exiting.
	close(s.done)
	srv.Close()
	<-s.acceptDone
	s.conns.Wait()
	s.workers.Wait()
	return code
}

// signalReady answers the CLI once the first containers have started (or
// failed to) and pause is up.
func (s *shim) signalReady() {
	if s.ready != nil {
		reportReady(s.ready, s.failed)
		s.ready = nil
		trimMemory()
	}
}

func (s *shim) pauseStarted() bool {
	select {
	case <-s.pauseReady:
		return true
	default:
		return false
	}
}

// loop handles events until the pod is finished; then it tears the
// sandbox down, writes the final status and answers waiting requests.
func (s *shim) loop(sigc <-chan os.Signal) int {
	imageTick := time.NewTicker(2 * time.Second)
	defer imageTick.Stop()
	for !s.finished() {
		select {
		case ev := <-s.events:
			ev.handle(s)
		case <-sigc:
			s.stop(s.gracePeriod(nil), false)
		case <-imageTick.C:
			if !s.recheckImages() {
				continue
			}
		}
		if s.recreating && s.allIdle() {
			s.rebuildSandbox()
		}
		if s.finished() {
			break
		}
		s.writeStatus(false)
		if s.inFlight() == 0 && s.pauseDue() {
			s.launchPause()
		}
		if s.ready != nil && s.failed == nil && s.inFlight() == 0 && (!s.sharesPID() || s.pauseStarted()) {
			s.signalReady()
		}
	}
	s.cancel()
	s.teardownSandbox()
	code := 0
	if s.failed != nil && s.ready != nil {
		// The pod never came up: the CLI removes it, so leave no status.
		code = 1
	} else {
		s.writeStatus(true)
	}
	s.signalReady()
	for _, w := range s.waiters {
		w <- response{OK: true}
	}
	return code
}

// finished reports whether nothing runs and nothing will run again.
func (s *shim) finished() bool {
	for _, c := range s.ctrs {
		if c.inst != nil || c.starting || c.timer != nil {
			return false
		}
	}
	if s.stopping {
		return true
	}
	if s.recreating {
		return false
	}
	return s.terminal()
}

func (s *shim) gracePeriod(override *int64) time.Duration {
	if override != nil {
		return time.Duration(*override) * time.Second
	}
	if g := s.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}
