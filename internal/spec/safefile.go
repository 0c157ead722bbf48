package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxFileSize is the largest handoff.hcl or spec file handoff reads: 64 KiB.
//
// A real spec is under 2 KB and its longest value, an AWS session policy,
// is capped by AWS at 2,048 characters, so 64 KiB leaves thirty times the
// room any spec needs. The bound is what keeps one file harmless: at most
// 64 KiB is ever read from it (a bigger file is refused by its size before
// a byte is read), and even a file made of nothing but one-character list
// elements parses into about 1 MB.
const MaxFileSize = 64 << 10

// FileError is why the safe reader refused a file, or could not read it.
// Its message names the path and what kind of file it is; it never holds a
// byte of the file, nor the target of a symbolic link, which is never read.
type FileError struct {
	Path string // the path as given
	// Kind names what the file is when it is not a regular file, such as
	// "a symbolic link" or "a named pipe (FIFO)" (or not a directory, when
	// Dir is set); empty otherwise.
	Kind string
	// Dir is set when a directory was expected (specs/).
	Dir bool
	// Size is the file's size when it is larger than MaxFileSize; 0
	// otherwise.
	Size int64
	// Err is the underlying error of a file that could not be opened or
	// read; nil when the file was refused.
	Err error
}

// Error says what the file is and that it was refused.
func (e *FileError) Error() string {
	switch {
	case e.Kind != "" && e.Dir:
		return fmt.Sprintf("%s is %s, not a directory", e.Path, e.Kind)
	case e.Kind != "":
		return fmt.Sprintf("%s is %s, not a regular file", e.Path, e.Kind)
	case e.Size > 0:
		return fmt.Sprintf("%s has %d bytes, more than the %d a file may have", e.Path, e.Size, MaxFileSize)
	default:
		return "cannot read " + readErrorText(e)
	}
}

// Unwrap returns the underlying error, if any.
func (e *FileError) Unwrap() error { return e.Err }

// ReadFile reads the file at path the way handoff reads handoff.hcl and
// specs: only a regular file, never through a symbolic link in its last
// element, never blocking on a FIFO or opening a device for reading, and at
// most MaxFileSize bytes. The file is opened first (without following a
// link, without blocking) and only then checked, on the opened file, so
// that it cannot be swapped between the check and the read. It returns the
// bytes and the opened file's FileInfo, or a *FileError.
//
// The directories leading to path are followed as the caller gave them:
// the caller names them. LoadDir goes further and opens specs/ and the
// files in it relative to the repository, refusing links at every step.
func ReadFile(path string) ([]byte, fs.FileInfo, error) {
	d, err := openDirFollow(filepath.Dir(path))
	if err != nil {
		return nil, nil, &FileError{Path: path, Err: err}
	}
	defer d.close()
	return d.readFile(filepath.Base(path), path)
}

// ReadSource reads path with ReadFile and checks that it is text (see
// CheckText). It returns the bytes, the FileInfo and nil; or nil and the
// one diagnostic that says why the file cannot be parsed.
func ReadSource(path string) ([]byte, fs.FileInfo, hcl.Diagnostics) {
	src, info, err := ReadFile(path)
	if err != nil {
		return nil, nil, hcl.Diagnostics{fileDiagnostic(path, err)}
	}
	if d := CheckText(path, src); d != nil {
		return nil, nil, hcl.Diagnostics{d}
	}
	return src, info, nil
}

// readFile opens name in d without following a link and reads it, as
// ReadFile. path is how errors name the file.
func (d *dirHandle) readFile(name, path string) ([]byte, fs.FileInfo, error) {
	f, err := d.openFile(name)
	if err != nil {
		return nil, nil, fileError(path, err, func() (fs.FileInfo, error) { return d.lstat(name) })
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, &FileError{Path: path, Err: err}
	}
	if !info.Mode().IsRegular() {
		return nil, nil, &FileError{Path: path, Kind: kindOf(info.Mode())}
	}
	if info.Size() > MaxFileSize {
		return nil, nil, &FileError{Path: path, Size: info.Size()}
	}
	// The file may grow after Stat: read one byte past the bound to see it.
	src, err := readAllSized(io.LimitReader(f, MaxFileSize+1), info.Size()+1)
	if err != nil {
		return nil, nil, &FileError{Path: path, Err: err}
	}
	if len(src) > MaxFileSize {
		return nil, nil, &FileError{Path: path, Size: int64(len(src))}
	}
	return src, info, nil
}

// fileError turns the error of opening a file into a *FileError. When the
// open failed because of what the file is (a link, a socket), lstat says
// what; the file's content or target is never looked at.
func fileError(path string, err error, lstat func() (fs.FileInfo, error)) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	if refused(err) {
		if info, lerr := lstat(); lerr == nil && !info.Mode().IsRegular() {
			return &FileError{Path: path, Kind: kindOf(info.Mode())}
		}
	}
	return &FileError{Path: path, Err: err}
}

// kindOf names the kind of a file that is not a regular file.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}

// fileDiagnostic is the diagnostic of a file the safe reader refused or
// could not read. Like FileError it quotes nothing of the file.
func fileDiagnostic(path string, err error) *hcl.Diagnostic {
	var fe *FileError
	if !errors.As(err, &fe) {
		fe = &FileError{Path: path, Err: err}
	}
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: FileRange(path).Ptr()}
	base := filepath.Base(path)
	what, real := "handoff.hcl and specs", "regular files"
	if fe.Dir {
		what, real = SpecsDir+"/", "a directory"
	}
	switch {
	case fe.Kind == "a symbolic link":
		d.Summary = "Symbolic link refused"
		d.Detail = fmt.Sprintf("%s is a symbolic link. handoff reads %s only as %s inside the repository "+
			"and never follows a link, so that nothing can be read from elsewhere. Replace the link with what it points to.", path, what, real)
	case fe.Kind != "" && fe.Dir:
		d.Summary = "Not a directory"
		d.Detail = fmt.Sprintf("%s is %s. handoff reads %s only as %s; replace it with the directory of specs.", path, fe.Kind, what, real)
	case fe.Kind != "":
		d.Summary = "Not a regular file"
		d.Detail = fmt.Sprintf("%s is %s. handoff reads %s only as %s; "+
			"replace it with the file itself, or remove it.", path, fe.Kind, what, real)
	case fe.Size > 0:
		d.Summary = "File too large"
		d.Detail = fmt.Sprintf("%s has %d bytes; handoff reads files of at most %d bytes (64 KiB), and a real spec is under 2 KB. "+
			"Check that this is the file you meant; a spec declares one handoff.", path, fe.Size, MaxFileSize)
	default:
		d.Summary = "Cannot read " + base
		d.Detail = fmt.Sprintf("%v. Check that the path exists and is readable.", readErrorText(fe))
	}
	return d
}

// readErrorText is the error of an unreadable file without repeating the
// path twice.
func readErrorText(fe *FileError) string {
	var pe *fs.PathError
	if errors.As(fe.Err, &pe) {
		return fmt.Sprintf("%s: %v", fe.Path, pe.Err)
	}
	return fmt.Sprintf("%s: %v", fe.Path, fe.Err)
}

// CheckText returns nil when src is UTF-8 text without a NUL byte, else one
// error diagnostic at the first offending byte. A binary file is refused
// before the parser sees it: the parser would report every stray byte, a
// hundred problems for a few kilobytes, and quote them.
func CheckText(filename string, src []byte) *hcl.Diagnostic {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return textDiagnostic(filename, src, i, "Binary file",
			"%s holds a NUL byte at line %d, column %d: it is not a text file. A spec or handoff.hcl is UTF-8 text; "+
				"remove the file, or replace it with the text it should hold.")
	}
	if utf8.Valid(src) {
		return nil
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			return textDiagnostic(filename, src, i, "Invalid UTF-8",
				"%s is not valid UTF-8 at line %d, column %d. A spec or handoff.hcl is UTF-8 text: "+
					"save the file as UTF-8, or remove it if it is not a spec.")
		}
		i += n
	}
	return nil
}

// textDiagnostic is an error at byte offset off of src; format takes the
// file name, the line and the column.
func textDiagnostic(filename string, src []byte, off int, summary, format string) *hcl.Diagnostic {
	pos := posAt(src, off)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, filename, pos.Line, pos.Column),
		Subject:  &hcl.Range{Filename: filename, Start: pos, End: pos},
	}
}

// posAt returns the position of byte offset off of src, columns counting
// characters (an invalid byte counts as one), as hcl does.
func posAt(src []byte, off int) hcl.Pos {
	line, lineStart := 1, 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	return hcl.Pos{Line: line, Column: utf8.RuneCount(src[lineStart:off]) + 1, Byte: off}
}

// dirHandle is an open directory, the base of the files opened in it.
// Its platform part (safefile_unix.go, safefile_other.go) opens files and
// sub-directories without following links.
type dirHandle struct {
	f    *os.File
	path string // how messages name it
}

func (d *dirHandle) close() { _ = d.f.Close() }

// readDir returns up to n more entries of d (all when n <= 0); io.EOF at
// the end, as os.File.ReadDir.
func (d *dirHandle) readDir(n int) ([]fs.DirEntry, error) { return d.f.ReadDir(n) }

// openDirFollow opens the directory at path, following links: the caller
// named it.
func openDirFollow(path string) (*dirHandle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.IsDir() {
		f.Close()
		return nil, &FileError{Path: path, Kind: kindOf(info.Mode())}
	}
	return &dirHandle{f: f, path: path}, nil
}

// Dir is a directory opened for the safe reader: the files and
// sub-directories opened through it are opened relative to it, never
// through a symbolic link, so that what is read stays inside it whatever
// is renamed meanwhile. handoff fmt lists and reads through it.
type Dir struct{ h *dirHandle }

// OpenDir opens the directory at path, following links in path itself:
// the caller named it.
func OpenDir(path string) (*Dir, error) {
	h, err := openDirFollow(path)
	if err != nil {
		return nil, err
	}
	return &Dir{h: h}, nil
}

// Path returns the path of d, as opened.
func (d *Dir) Path() string { return d.h.path }

// Sub opens the sub-directory name of d. A symbolic link, or anything but
// a directory, is refused with a *FileError; a missing one is an error
// satisfying errors.Is(err, fs.ErrNotExist).
func (d *Dir) Sub(name string) (*Dir, error) {
	h, err := d.h.openDir(name)
	if err != nil {
		return nil, err
	}
	return &Dir{h: h}, nil
}

// Entries lists d, sorted by name, without following links (an entry's
// Type is that of the entry itself). It fails when d holds more than max
// entries, having read no more than that.
func (d *Dir) Entries(max int) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for {
		batch, err := d.h.readDir(256)
		out = append(out, batch...)
		if len(out) > max {
			return nil, fmt.Errorf("%s holds more than %d entries", d.h.path, max)
		}
		if err == io.EOF || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// ReadFile reads the file name of d as the package-level ReadFile does,
// opened relative to d.
func (d *Dir) ReadFile(name string) ([]byte, fs.FileInfo, error) {
	return d.h.readFile(name, filepath.Join(d.h.path, name))
}

// ReadSource is ReadFile followed by CheckText, as the package-level
// ReadSource.
func (d *Dir) ReadSource(name string) ([]byte, fs.FileInfo, hcl.Diagnostics) {
	path := filepath.Join(d.h.path, name)
	src, info, err := d.ReadFile(name)
	if err != nil {
		return nil, nil, hcl.Diagnostics{fileDiagnostic(path, err)}
	}
	if dg := CheckText(path, src); dg != nil {
		return nil, nil, hcl.Diagnostics{dg}
	}
	return src, info, nil
}

// Close closes d.
func (d *Dir) Close() error { return d.h.f.Close() }

// RefusedDiagnostic is the diagnostic for the entry path of a listing that
// is not a regular file (mode from fs.DirEntry.Type); nothing of it is
// opened.
func RefusedDiagnostic(path string, mode fs.FileMode) *hcl.Diagnostic {
	return fileDiagnostic(path, &FileError{Path: path, Kind: kindOf(mode)})
}

// FileDiagnostic is the diagnostic of an error of the safe reader (a
// *FileError, or an error opening path); it quotes nothing of the file.
func FileDiagnostic(path string, err error) *hcl.Diagnostic { return fileDiagnostic(path, err) }

// readAllSized is io.ReadAll with a first buffer of size bytes (the file's
// size and one to see its end): one read fewer per spec than io.ReadAll's
// 512-byte start, which matters over thousands of specs.
func readAllSized(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, max(512, min(size, MaxFileSize+1)))
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow, as io.ReadAll does
		}
	}
}
