// Package runtime is podbox's only door to runc's libcontainer: it turns a
// neutral container Spec into a libcontainer configuration (a pure
// function), creates, starts, signals, execs into and destroys containers,
// and holds the re-exec hook libcontainer needs (package cinit runs it, as
// early as Go allows).
//
// Every binary that starts containers must call Init before anything else
// (sandbox.Init does), because libcontainer re-executes /proc/self/exe with
// the argument "init" to set up each container.
//
// libcontainer's Go API is not covered by runc's compatibility promise, so it
// is pinned (v1.5.2) and kept behind this package: nothing else in podbox
// imports it.
package runtime
