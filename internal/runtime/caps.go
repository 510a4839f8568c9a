package runtime

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
)

var (
	boundingOnce sync.Once
	bounding     map[string]bool
	boundingErr  error
)

// BoundingSet returns the names (CAP_*) of the capabilities in this
// process's bounding set. Hosts may withhold some from root (these
// development machines give root no CAP_SYS_RESOURCE), and asking for a
// capability outside the set makes container start fail.
func BoundingSet() (map[string]bool, error) {
	boundingOnce.Do(func() { bounding, boundingErr = readBoundingSet() })
	return bounding, boundingErr
}

func readBoundingSet() (map[string]bool, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("read capability bounding set: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("parse CapBnd %q: %w", v, err)
		}
		set := map[string]bool{}
		for _, c := range capability.ListKnown() {
			if uint(c) < 64 && mask&(1<<uint(c)) != 0 {
				set[capName(c)] = true
			}
		}
		return set, nil
	}
	return nil, fmt.Errorf("read capability bounding set: no CapBnd in /proc/self/status")
}

func capName(c capability.Cap) string { return "CAP_" + strings.ToUpper(c.String()) }

// KnownCapability reports whether name (CAP_* form) is a capability this
// system knows.
func KnownCapability(name string) bool {
	for _, c := range capability.ListKnown() {
		if capName(c) == name {
			return true
		}
	}
	return false
}

// clampCapabilities returns want (or the default set when want is nil)
// without the capabilities outside the bounding set, in a stable order.
func clampCapabilities(want []string) ([]string, error) {
	if want == nil {
		want = DefaultCapabilities
	}
	bnd, err := BoundingSet()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(want))
	seen := map[string]bool{}
	for _, c := range want {
		if bnd[c] && !seen[c] {
			out = append(out, c)
			seen[c] = true
		}
	}
	return out, nil
}
