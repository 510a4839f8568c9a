package main

import (
	"fmt"
	"io"
	"os"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readPods decodes every Pod in the files (- is stdin) and puts them in
// namespace ns, refusing a manifest whose namespace differs from an
// explicit -n, as kubectl does.
func readPods(files []string, ns string, nsExplicit bool, stdin io.Reader) ([]*corev1.Pod, error) {
	m, err := readManifests(files, ns, nsExplicit, stdin)
	if err != nil {
		return nil, err
	}
	return m.pods, nil
}

// manifests are the objects of the files given to podbox: pods, and the
// ConfigMaps and Secrets they may refer to (as podman kube play takes them).
type manifests struct {
	pods    []*corev1.Pod
	objects sandbox.RunOptions
}

// readManifests decodes every object in the files (see readPods); ConfigMaps
// and Secrets get namespace ns the same way.
func readManifests(files []string, ns string, nsExplicit bool, stdin io.Reader) (*manifests, error) {
	out := &manifests{}
	setNS := func(source, kind string, meta *metav1.ObjectMeta) error {
		switch {
		case meta.Namespace == "":
			meta.Namespace = ns
		case nsExplicit && meta.Namespace != ns:
			return fmt.Errorf("%s: the namespace from the provided object %q (%s %q) does not match the namespace %q: pass --namespace=%s or remove metadata.namespace",
				source, meta.Namespace, kind, meta.Name, ns, meta.Namespace)
		}
		return nil
	}
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
			out.pods = append(out.pods, p)
		}
		for _, cm := range m.ConfigMaps {
			if err := setNS(source, "ConfigMap", &cm.ObjectMeta); err != nil {
				return nil, err
			}
			if errs := kube.ValidateConfigMap(cm); len(errs) > 0 {
				return nil, fmt.Errorf("%s: ConfigMap %q is invalid: %w", source, cm.Name, errs.ToAggregate())
			}
			out.objects.ConfigMaps = append(out.objects.ConfigMaps, *cm)
		}
		for _, s := range m.Secrets {
			if err := setNS(source, "Secret", &s.ObjectMeta); err != nil {
				return nil, err
			}
			if errs := kube.ValidateSecret(s); len(errs) > 0 {
				return nil, fmt.Errorf("%s: Secret %q is invalid: %w", source, s.Name, errs.ToAggregate())
			}
			out.objects.Secrets = append(out.objects.Secrets, *s)
		}
	}
	return out, nil
}
