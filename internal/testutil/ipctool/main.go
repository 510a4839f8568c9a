// Command ipctool is a test helper put into test images: it creates and
// reads System V shared memory segments, which busybox cannot do, so tests
// can prove that two containers share an IPC namespace.
//
//	ipctool create KEY TEXT   make segment KEY holding TEXT
//	ipctool read KEY          print the text in segment KEY (exit 1 if none)
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ipctool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: ipctool create KEY TEXT | read KEY")
	}
	key, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	switch args[0] {
	case "create":
		if len(args) != 3 {
			return fmt.Errorf("create needs KEY and TEXT")
		}
		id, err := unix.SysvShmGet(key, 4096, unix.IPC_CREAT|0o600)
		if err != nil {
			return fmt.Errorf("shmget: %w", err)
		}
		mem, err := unix.SysvShmAttach(id, 0, 0)
		if err != nil {
			return fmt.Errorf("shmat: %w", err)
		}
		copy(mem, args[2])
		return unix.SysvShmDetach(mem)
	case "read":
		id, err := unix.SysvShmGet(key, 0, 0)
		if err != nil {
			return fmt.Errorf("shmget: %w", err)
		}
		mem, err := unix.SysvShmAttach(id, 0, unix.SHM_RDONLY)
		if err != nil {
			return fmt.Errorf("shmat: %w", err)
		}
		if i := bytes.IndexByte(mem, 0); i >= 0 {
			fmt.Println(string(mem[:i]))
		}
		return unix.SysvShmDetach(mem)
	}
	return fmt.Errorf("unknown command %q", args[0])
}
