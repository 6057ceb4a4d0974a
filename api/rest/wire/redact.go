package wire

// RedactedData stands in for a Secret's `data` in API responses, unless the request asks for
// the data with `?reveal=true`. The field keeps its place and its type (a string), so tools
// that read Secrets as Kuma returns them still parse the body; it is not valid base64, so
// nothing can mistake it for data, and the API refuses to store it back.
const RedactedData = "<redacted>"

// RevealParam is the query parameter (`?reveal=true`) that asks for Secret data in a read.
const RevealParam = "reveal"
