package image

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errNoNewAPI means the kernel cannot mount overlay through fsopen with
// "lowerdir+" (Linux < 6.8, or a seccomp filter).
var errNoNewAPI = errors.New("new mount API unavailable for overlay")

// overlayOptions are the options every rootfs overlay gets besides its
// directories: never follow a redirect planted by a layer, never trust
// metacopy attributes, no inode index.
var overlayOptions = [][2]string{{"redirect_dir", "nofollow"}, {"metacopy", "off"}, {"index", "off"}}

// mountOverlay mounts an overlay on target; lowers lists the top layer first.
func mountOverlay(lowers []string, upper, work, target string, legacy bool) error {
	if !legacy {
		err := mountOverlayFD(lowers, upper, work, target)
		if !errors.Is(err, errNoNewAPI) {
			return err
		}
	}
	return mountOverlayLegacy(lowers, upper, work, target)
}

// mountOverlayFD uses fsopen, fsconfig, fsmount and move_mount: each lower
// directory is its own "lowerdir+" parameter, so no length limit and no
// escaping applies.
func mountOverlayFD(lowers []string, upper, work, target string) error {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return errNoNewAPI
	} else if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fd)
	for i, l := range lowers {
		if err := unix.FsconfigSetString(fd, "lowerdir+", l); err != nil {
			if i == 0 && errors.Is(err, unix.EINVAL) && strings.Contains(fsLog(fd), "nknown parameter") {
				return errNoNewAPI
			}
			return fmt.Errorf("overlay lowerdir+ %s: %w%s", l, err, fsLog(fd))
		}
	}
	params := append([][2]string{{"source", "overlay"}, {"upperdir", upper}, {"workdir", work}}, overlayOptions...)
	for _, p := range params {
		if err := unix.FsconfigSetString(fd, p[0], p[1]); err != nil {
			return fmt.Errorf("overlay %s=%s: %w%s", p[0], p[1], err, fsLog(fd))
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("create overlay: %w%s", err, fsLog(fd))
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount overlay: %w%s", err, fsLog(fd))
	}
	// The mount is detached until move_mount; closing mfd then frees it.
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move overlay mount to %s: %w", target, err)
	}
	return nil
}

// fsLog drains the messages the kernel left on a filesystem context, as
// ": msg; msg", or "".
func fsLog(fd int) string {
	var msgs []string
	buf := make([]byte, 1024)
	for range 16 {
		n, err := unix.Read(fd, buf)
		if err != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) == 0 {
		return ""
	}
	return " (" + strings.Join(msgs, "; ") + ")"
}

// mountOverlayLegacy uses mount(2). Its options must fit in one page; when the
// lower directories are too many for that, they are passed as
// /proc/self/fd/N of O_PATH descriptors, which overlay resolves at mount time.
func mountOverlayLegacy(lowers []string, upper, work, target string) error {
	data := legacyOptions(lowers, upper, work)
	if len(data) >= os.Getpagesize() {
		short := make([]string, len(lowers))
		for i, l := range lowers {
			fd, err := unix.Open(l, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open layer %s: %w", l, err)
			}
			defer unix.Close(fd)
			short[i] = "/proc/self/fd/" + strconv.Itoa(fd)
		}
		data = legacyOptions(short, upper, work)
		if len(data) >= os.Getpagesize() {
			return fmt.Errorf("mount overlay on %s: %d layers do not fit in the mount options of this kernel", target, len(lowers))
		}
	}
	if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}

func legacyOptions(lowers []string, upper, work string) string {
	esc := make([]string, len(lowers))
	for i, l := range lowers {
		esc[i] = escapeOption(l)
	}
	var b strings.Builder
	b.WriteString("lowerdir=" + strings.Join(esc, ":"))
	b.WriteString(",upperdir=" + escapeOption(upper))
	b.WriteString(",workdir=" + escapeOption(work))
	for _, o := range overlayOptions {
		b.WriteString("," + o[0] + "=" + o[1])
	}
	return b.String()
}

// escapeOption escapes the separators of overlay's mount(2) options.
func escapeOption(s string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`).Replace(s)
}
