//go:build !(seccomp && cgo)

package runtime

const builtWithSeccomp = false
