package main

import (
	"fmt"
	"io"
	"os"

	"github.com/podbox/podbox/internal/kube"
	corev1 "k8s.io/api/core/v1"
)

// readPods decodes every Pod in the files (- is stdin) and puts them in
// namespace ns, refusing a manifest whose namespace differs from an
// explicit -n, as kubectl does.
func readPods(files []string, ns string, nsExplicit bool, stdin io.Reader) ([]*corev1.Pod, error) {
	var pods []*corev1.Pod
	for _, f := range files {
		var r io.Reader
		source := f
		if f == "-" {
			r, source = stdin, "<stdin>"
		} else {
			fh, err := os.Open(f)
			if err != nil {
				return nil, fmt.Errorf("read manifest: %w", err)
			}
			defer fh.Close()
			r = fh
		}
		m, err := kube.Decode(r, source)
		if err != nil {
			return nil, err
		}
		for _, p := range m.Pods {
			switch {
			case p.Namespace == "":
				p.Namespace = ns
			case nsExplicit && p.Namespace != ns:
				return nil, fmt.Errorf("%s: the namespace from the provided object %q does not match the namespace %q: pass --namespace=%s or remove metadata.namespace",
					source, p.Namespace, ns, p.Namespace)
			}
			pods = append(pods, p)
		}
	}
	return pods, nil
}
