//go:build seccomp && cgo

package runtime

// builtWithSeccomp says whether this test binary was built with libseccomp,
// so that a seccomp test cannot pass by finding seccomp unsupported.
const builtWithSeccomp = true
