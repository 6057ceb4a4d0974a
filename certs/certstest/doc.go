// Package certstest builds throwaway CAs for tests and checks certificates with OpenSSL, the
// second verifier next to go-spiffe. Keys are generated per test; nothing is committed.
package certstest
