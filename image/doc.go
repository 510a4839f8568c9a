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
// # Trust
//
// Import and Load read local files the user handed over; they use an
// accept-anything signature policy (there is no signature to check in a rootfs
// tarball or a docker-archive). Registry pulls, which come with policy.json, are
// not part of this package yet. Layers from any source are unpacked with
// containerd's pkg/archive, which keeps every entry inside the layer directory,
// and overlay is mounted with redirect_dir=nofollow,metacopy=off so that
// trusted.overlay.* attributes planted by a layer cannot redirect lookups.
package image
