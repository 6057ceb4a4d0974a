package v1alpha1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Decode reads every resource of one multi-document YAML (or JSON) file. It returns the
// resources that decoded and validated cleanly, and every decode and validation error of the
// file, located and sorted. file is only used to name the file in errors.
func Decode(file string, data []byte) ([]Object, ErrorList) {
	l := newLoader()
	l.addFile(file, data)
	l.errs.Sort()
	return l.objs, l.errs
}

// LoadFiles decodes files and directories. Directories are walked recursively for `*.yaml`,
// `*.yml` and `*.json` files in path order, skipping hidden directories (`.git`); files named
// explicitly are read whatever their extension. A resource defined twice is an error.
func LoadFiles(paths []string) ([]Object, ErrorList) {
	l := newLoader()
	seen := map[string]bool{}
	for _, p := range paths {
		files, err := expandPath(p)
		if err != nil {
			l.errs = append(l.errs, FieldError{File: p, Message: err.Error()})
		}
		for _, f := range files {
			if clean := filepath.Clean(f); !seen[clean] {
				seen[clean] = true
				l.readFile(f)
			}
		}
	}
	l.errs.Sort()
	return l.objs, l.errs
}

func expandPath(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPathError(err))
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return files, fmt.Errorf("cannot read: %w", unwrapPathError(err))
	}
	sort.Strings(files)
	return files, nil
}

// unwrapPathError drops the path from an fs error: FieldError already names the file.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type loader struct {
	objs []Object
	errs ErrorList
	// defined maps a resource key to where it was first defined, to reject redefinitions.
	defined map[string]string
}

func newLoader() *loader { return &loader{defined: map[string]string{}} }

func (l *loader) readFile(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		l.errs = append(l.errs, FieldError{File: file, Message: "cannot read: " + unwrapPathError(err).Error()})
		return
	}
	l.addFile(file, data)
}

func (l *loader) addFile(file string, data []byte) {
	docs, errs := parseDocuments(file, data)
	l.errs = append(l.errs, errs...)
	budget := newAliasBudget()
	for _, doc := range docs {
		for _, d := range decodeDocument(file, doc, budget) {
			l.add(d)
		}
	}
}

// add keeps a decoded resource if it has no decode or validation error. Validation runs only
// on cleanly decoded resources: a field that failed to decode would otherwise also be reported
// as missing.
func (l *loader) add(d decoded) {
	if len(d.errs) > 0 {
		l.errs = append(l.errs, d.errs...)
		return
	}
	if errs := Locate(d.obj, d.obj.Validate()); len(errs) > 0 {
		l.errs = append(l.errs, errs...)
		return
	}
	m := d.obj.GetMeta()
	here := fmt.Sprintf("%s:%d", m.Source.File, m.Source.Line)
	if prev, dup := l.defined[m.Key()]; dup {
		l.errs = append(l.errs, FieldError{
			File: m.Source.File, Line: m.Source.Line, Resource: m.DisplayName(),
			Message: "already defined at " + prev,
		})
		return
	}
	l.defined[m.Key()] = here
	l.objs = append(l.objs, d.obj)
}

// parseDocuments splits a stream into document nodes. yaml.v3 re-panics anything that is not
// its own error type, so a recover keeps "no panic on any input" true for the parser as well.
func parseDocuments(file string, data []byte) (docs []*yaml.Node, errs ErrorList) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, FieldError{File: file, Message: fmt.Sprintf("invalid YAML: %v", r)})
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, errs
		}
		if err != nil {
			return docs, append(errs, syntaxError(file, data, err))
		}
		docs = append(docs, &doc)
	}
}

var (
	yamlLineError     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlUnknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

func syntaxError(file string, data []byte, err error) FieldError {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return FieldError{File: file, Line: line, Message: "invalid YAML: " + m[2]}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return FieldError{File: file, Line: guessLine(data, msg), Message: "invalid YAML: " + msg}
}

// guessLine finds the line of a yaml.v3 error that carries none: yaml.v3 omits the line when
// the problem is on the first line, and for errors raised outside its scanner.
func guessLine(data []byte, msg string) int {
	offset := 0
	switch {
	case yamlUnknownAnchor.MatchString(msg):
		name := yamlUnknownAnchor.FindStringSubmatch(msg)[1]
		offset = bytes.Index(data, []byte("*"+name))
	case strings.Contains(msg, "UTF-8"):
		offset = firstInvalidUTF8(data)
	case strings.Contains(msg, "control characters"):
		offset = bytes.IndexFunc(data, func(r rune) bool {
			return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
		})
	}
	if offset < 0 {
		return 0
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}
