package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
)

// User is a resolved user: numeric IDs, supplementary groups, home.
type User struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
	Home           string
}

// ResolveUser resolves an image/pod user spec ("", "name", "uid",
// "name:group", "uid:gid", ...) against the container's /etc/passwd and
// /etc/group, read inside rootfs without following links out of it. Numeric
// IDs need no entry; a name that is not found is an error naming it.
func ResolveUser(rootfs, spec string) (User, error) {
	passwd, err := openIn(rootfs, "/etc/passwd")
	if err != nil {
		return User{}, err
	}
	if passwd != nil {
		defer passwd.Close()
	}
	group, err := openIn(rootfs, "/etc/group")
	if err != nil {
		return User{}, err
	}
	if group != nil {
		defer group.Close()
	}
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	eu, err := user.GetExecUser(spec, defaults, readerOrNil(passwd), readerOrNil(group))
	if err != nil {
		return User{}, fmt.Errorf("resolve user %q in the image: %w", spec, err)
	}
	u := User{UID: uint32(eu.Uid), GID: uint32(eu.Gid), Home: eu.Home}
	for _, g := range eu.Sgids {
		if uint32(g) != u.GID {
			u.AdditionalGIDs = append(u.AdditionalGIDs, uint32(g))
		}
	}
	return u, nil
}

// readerOrNil avoids handing GetExecUser a typed-nil io.Reader.
func readerOrNil(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return f
}

// openIn opens path inside rootfs, resolving symlinks as if rootfs were /;
// a missing file gives (nil, nil).
func openIn(rootfs, path string) (*os.File, error) {
	p, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return nil, fmt.Errorf("resolve %s in %s: %w", path, rootfs, err)
	}
	// Non-blocking and not following a last-moment link: the image could
	// have made the file a FIFO, and SecureJoin resolved the links already.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s of the image: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// HasUser reports whether spec names a user by name (not only numerically).
func HasUser(spec string) bool {
	u, _, _ := strings.Cut(spec, ":")
	for _, r := range u {
		if r < '0' || r > '9' {
			return true
		}
	}
	return false
}
