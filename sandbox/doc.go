// Package sandbox runs Kubernetes Pods on this host, the embeddable heart of
// podbox.
//
// A program that uses it calls Init first thing in main (podbox re-executes
// the program's own binary as each pod's shim and as libcontainer's
// container init), then opens a Runtime with its roots:
//
//	func main() {
//		sandbox.Init()
//		rt, err := sandbox.Open(sandbox.Options{})
//		...
//		pod, err := rt.Run(ctx, pod)                              // validate, start
//		pod, err = rt.Wait(ctx, "default", "web", sandbox.PodReady) // or Succeeded, Finished, ...
//		err = rt.Logs(ctx, "default", "web", sandbox.LogOptions{Container: "app"}, os.Stdout)
//		code, err := rt.Exec(ctx, "default", "web", sandbox.ExecOptions{Command: []string{"hostname"}, ...})
//		err = rt.Delete(ctx, "default", "web", sandbox.DeleteOptions{})
//	}
//
// Each pod gets its own supervisor process (the shim), so pods outlive the
// program that started them; every read (Get, List, Logs) comes from files
// and works whether or not the shim is alive. Nothing here logs globally or
// exits the process (except Init, which is the entry point of the re-executed
// helpers and never returns there).
//
// Stability: the API of this package, image and cgroups follows semantic
// versioning from v1.0; internal packages may change at any time.
package sandbox
