// Package image is podbox's local image store: one OCI image layout shared by
// every image, each layer unpacked once into its own directory, and a cheap
// overlay mount per container.
//
// # On disk
//
// Everything lives under <Root>/images (Root defaults to /var/lib/podbox):
//
//	oci/              one OCI image layout: blobs/sha256/<hex> and index.json; each
//	                  index entry names an image manifest through the annotation
//	                  org.opencontainers.image.ref.name = the fully normalised name
//	                  (repo@sha256:… for an image pulled by digest)
//	oci/repodigests.json  per name a registry pull gave, the registry's digest of
//	                  the image (Image.RepoDigests) and the stored manifest it
//	                  was recorded for; a record counts only while the name
//	                  still points at that manifest
//	layers/<chainID>/ a layer unpacked with containerd's pkg/archive, whiteouts
//	                  converted for overlayfs (char 0/0 devices, trusted.overlay.opaque)
//	lock              flock: LOCK_EX for mutations, LOCK_SH for readers
//	cache/            containers/image blob-info cache (never /var/lib/containers)
//	tmp/              work in progress, one flock-held directory per operation;
//	                  Open removes the directories nobody holds any more
//	leases/           one file per live Mount, so Remove and GC keep its image
//
// # Consistency
//
// Every mutation is staged in a private tmp/ directory without holding the store
// lock: blobs are written and hashed, layers unpacked and their DiffIDs verified
// while streaming. Only then, under LOCK_EX, are blobs and layer directories
// renamed into place and index.json replaced (write, fsync, rename). index.json is
// the commit point: a crash at any moment leaves either the old or the new index,
// at worst with unreferenced blobs or layer directories, which the next garbage
// collection removes. Layer directories appear and disappear only by rename, so a
// layer directory that exists is complete. A layer directory that is missing
// (say after a crash during garbage collection) is unpacked again by Get.
//
// # Concurrency
//
// A Store holds no mutable state; every method takes the store lock itself, so
// one Store may be used from many goroutines, and many processes may open the
// same root. Readers (Get, List, Mount) share the lock.
//
// # Pulls
//
// Pull goes through containers/image: registries.conf (mirrors, insecure,
// blocked), the usual credential files and policy.json apply as for podman
// and skopeo, with podbox's own blob-info cache (cache/). A registry pull
// resolves the manifest first (one request); an image already stored from
// that registry digest is not downloaded again. Otherwise the image is copied
// into a work directory (blobs the store has are hard-linked there, so they
// are not downloaded), every blob checked against its digest, every layer
// unpacked and checked against its DiffID, and the result committed as
// Import's and Load's are.
//
// # Trust
//
// Import and Load read local files the user handed over; they use an
// accept-anything signature policy (there is no signature to check in a rootfs
// tarball or a docker-archive). Pull checks the signature policy (policy.json,
// or accept-anything if the host has none), for every transport, also when
// the image is present already. Layers from any source are unpacked with
// containerd's pkg/archive, which keeps every entry inside the layer directory,
// and overlay is mounted with redirect_dir=nofollow,metacopy=off so that
// trusted.overlay.* attributes planted by a layer cannot redirect lookups.
package image
