//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package spec

import (
	"io/fs"
	"os"
	"path/filepath"
)

// openFile opens name in d for reading, refusing anything but a regular
// file. Without openat and O_NOFOLLOW, it checks with Lstat, opens, and
// checks that the opened file is the one it checked (os.SameFile), so that
// a swap between the two is refused rather than read.
func (d *dirHandle) openFile(name string) (*os.File, error) {
	path := filepath.Join(d.path, name)
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, &FileError{Path: path, Kind: kindOf(before.Mode())}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil || !os.SameFile(before, after) {
		f.Close()
		return nil, &FileError{Path: path, Kind: "a file replaced while it was opened"}
	}
	return f, nil
}

// openDir opens the sub-directory name of d, refusing a link or anything
// but a directory, as openFile.
func (d *dirHandle) openDir(name string) (*dirHandle, error) {
	path := filepath.Join(d.path, name)
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.IsDir() {
		return nil, &FileError{Path: path, Kind: kindOf(before.Mode()), Dir: true}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil || !os.SameFile(before, after) {
		f.Close()
		return nil, &FileError{Path: path, Kind: "a directory replaced while it was opened", Dir: true}
	}
	return &dirHandle{f: f, path: path}, nil
}

// lstat describes name in d without following a link.
func (d *dirHandle) lstat(name string) (fs.FileInfo, error) {
	return os.Lstat(filepath.Join(d.path, name))
}

// refused reports whether an open failed because of what the file is; the
// checks above return a *FileError for that already.
func refused(error) bool { return false }
