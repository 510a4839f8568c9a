// Command suidtool is a test helper installed setuid root in a test image:
// it prints its real and effective user IDs ("uid=1000 euid=0"), which
// show whether running it gained root (no_new_privs off) or not.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("uid=%d euid=%d\n", os.Getuid(), os.Geteuid())
}
