package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// buildContext is the set of files a build sends to the engine: the context directory less what
// its .dockerignore excludes, with the Dockerfile and .dockerignore always in it (as the docker
// CLI sends them), and the Dockerfile added under a name of its own when it lies outside.
type buildContext struct {
	dir string
	// dockerfile is the Dockerfile's path inside the archive (what the engine is told to read).
	dockerfile string
	// outside is the Dockerfile's path on disk when it is not under dir.
	outside string
	files   []string // paths relative to dir (directories too), slash-separated, sorted
}

// openContext lists what a build of dockerfile in dir would send.
func openContext(dir, dockerfile string) (*buildContext, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("build context %q: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("build context %q is not a directory", dir)
	}
	if _, err := os.Stat(dockerfile); err != nil {
		return nil, fmt.Errorf("dockerfile %q: %w", dockerfile, err)
	}
	bc := &buildContext{dir: dir}
	rel, err := filepath.Rel(dir, dockerfile)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		content, err := os.ReadFile(dockerfile)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(content)
		bc.outside = dockerfile
		bc.dockerfile = ".dockerfile." + hex.EncodeToString(sum[:6])
	} else {
		bc.dockerfile = filepath.ToSlash(rel)
	}

	patterns, err := readIgnore(dir)
	if err != nil {
		return nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ".dockerignore"), err)
	}
	keep := map[string]bool{".dockerignore": true}
	if bc.outside == "" {
		keep[bc.dockerfile] = true
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		r, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		r = filepath.ToSlash(r)
		excluded, err := pm.MatchesOrParentMatches(r)
		if err != nil {
			return err
		}
		if excluded && !keep[r] {
			// An excluded directory is still walked when some pattern re-includes a path (`!x`).
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		bc.files = append(bc.files, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading build context %q: %w", dir, err)
	}
	for name := range keep {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(name))); err == nil && !contains(bc.files, name) {
			bc.files = append(bc.files, name)
		}
	}
	sort.Strings(bc.files)
	return bc, nil
}

func readIgnore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ignorefile.ReadAll(f)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// digest is a hash of what the build would send: every file's path, mode and content (a link's
// target), and the Dockerfile. A change to anything the build can see changes it; a change to a
// file the .dockerignore excludes does not.
func (bc *buildContext) digest() (string, error) {
	h := sha256.New()
	err := bc.each(func(name string, info fs.FileInfo, link string, open func() (io.ReadCloser, error)) error {
		fmt.Fprintf(h, "%q %o %q\n", name, info.Mode()&(fs.ModeType|fs.ModePerm), link)
		if open == nil {
			return nil
		}
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		fmt.Fprintf(h, "%d\n", info.Size())
		_, err = io.Copy(h, r)
		return err
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// writeTar writes the context as the tar stream the engine's build endpoint reads.
func (bc *buildContext) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	err := bc.each(func(name string, info fs.FileInfo, link string, open func() (io.ReadCloser, error)) error {
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		// Files arrive owned by root, as the docker CLI sends them; COPY --chown sets other owners.
		hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = name, 0, 0, "", ""
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if open == nil {
			return nil
		}
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(tw, r)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

type visit func(name string, info fs.FileInfo, link string, open func() (io.ReadCloser, error)) error

func (bc *buildContext) each(fn visit) error {
	entry := func(name, path string) error {
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return fn(name, info, link, nil)
		case info.IsDir():
			return fn(name, info, "", nil)
		case info.Mode().IsRegular():
			return fn(name, info, "", func() (io.ReadCloser, error) { return os.Open(path) })
		default:
			// Sockets, devices and pipes are not sent, as the docker CLI does not send them.
			return nil
		}
	}
	for _, name := range bc.files {
		if err := entry(name, filepath.Join(bc.dir, filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	if bc.outside != "" {
		return entry(bc.dockerfile, bc.outside)
	}
	return nil
}
