package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/shim"
	"golang.org/x/sys/unix"
)

// pullHelper is the body of a pull helper process (`PROGRAM pull-helper
// POD_DIR IMAGE`, see shim.PullHelperArg): it pulls the image as the pod's
// record says (registries.conf, policy, credentials), prints the outcome as
// JSON on stdout and returns the exit code. SIGTERM or SIGINT cancel it.
func pullHelper(args []string) int {
	res := shim.PullHelperResult{}
	if err := pullForPod(args); err != nil {
		res.Error = err.Error()
		res.InvalidName = errors.Is(err, image.ErrInvalidName)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "pull helper:", err)
		return 2
	}
	if res.Error != "" {
		return 1
	}
	return 0
}

func pullForPod(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: %s %s POD_DIR IMAGE", os.Args[0], shim.PullHelperArg)
	}
	rec, err := podstate.Dir(args[0]).ReadRecord()
	if err != nil {
		return err
	}
	store, err := image.Open(image.Options{Root: rec.Roots.Root})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT)
	defer stop()
	_, err = store.Pull(ctx, args[1], rec.Pull.Options())
	return err
}
