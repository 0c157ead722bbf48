//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openFile opens name in d for reading: O_NOFOLLOW refuses a symbolic link
// (ELOOP) instead of following it, O_NONBLOCK keeps a FIFO from blocking
// the open, O_NOCTTY keeps a terminal from becoming ours. The caller checks
// what it opened with Stat before reading a byte.
func (d *dirHandle) openFile(name string) (*os.File, error) {
	fd, err := d.openat(name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(d.path, name)), nil
}

// openDir opens the sub-directory name of d; a link, or anything but a
// directory, is refused by the open itself (O_NOFOLLOW, O_DIRECTORY).
func (d *dirHandle) openDir(name string) (*dirHandle, error) {
	path := filepath.Join(d.path, name)
	fd, err := d.openat(name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		if refused(err) {
			if info, lerr := d.lstat(name); lerr == nil && !info.IsDir() {
				return nil, &FileError{Path: path, Kind: kindOf(info.Mode()), Dir: true}
			}
		}
		return nil, &FileError{Path: path, Err: err}
	}
	return &dirHandle{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

func (d *dirHandle) openat(name string, flags int) (int, error) {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var oerr error
	cerr := rc.Control(func(dirfd uintptr) {
		for {
			fd, oerr = unix.Openat(int(dirfd), name, flags, 0)
			if !errors.Is(oerr, unix.EINTR) {
				return
			}
		}
	})
	if cerr != nil {
		return -1, cerr
	}
	if oerr != nil {
		return -1, &fs.PathError{Op: "open", Path: filepath.Join(d.path, name), Err: oerr}
	}
	return fd, nil
}

// lstat describes name in d without following a link; only to name what a
// refused file is.
func (d *dirHandle) lstat(name string) (fs.FileInfo, error) {
	return os.Lstat(filepath.Join(d.path, name))
}

// refused reports whether an open failed because of what the file is: a
// link (ELOOP under O_NOFOLLOW), not a directory, a socket or a device
// without a driver.
func refused(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ENXIO) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EMLINK)
}
