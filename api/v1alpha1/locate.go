package v1alpha1

// Locate returns errs (as returned by obj.Validate) with the file, line and resource filled in
// from obj's Source, sorted. The line is that of the longest prefix of the error's field path
// the document wrote, so an error about a missing field points at its parent, and one about
// the resource as a whole at the document.
func Locate(obj Object, errs ErrorList) ErrorList {
	if len(errs) == 0 {
		return nil
	}
	m := obj.GetMeta()
	out := make(ErrorList, len(errs))
	for i, e := range errs {
		if e.File == "" {
			e.File = m.Source.File
		}
		if e.Line == 0 {
			e.Line = m.Source.LineOf(e.Field)
		}
		if e.Resource == "" && m.Name != "" {
			e.Resource = m.DisplayName()
		}
		out[i] = e
	}
	out.Sort()
	return out
}

// Problem is a FieldError about field of the resource m describes, located at the line the
// field (or its nearest written parent) came from.
func (m *Meta) Problem(field, message string) FieldError {
	return FieldError{File: m.Source.File, Line: m.Source.LineOf(field), Resource: m.DisplayName(), Field: field, Message: message}
}

// LineOf returns the line of the longest recorded prefix of a field path, or the document line.
func (s Source) LineOf(field string) int {
	for _, p := range pathPrefixes(field) {
		if line, ok := s.Fields[p]; ok {
			return line
		}
	}
	return s.Line
}
