// tlogcases: RFC 6962 inclusion and consistency proofs over one random tree
// of 300 leaves, valid and mutated (a bit flipped, the last hash dropped, a
// hash appended, two hashes swapped, a wrong index), each with Go
// sumdb/tlog's verdict, as JSON lines (the first line lists the leaves).
// Built offline by test/integration/merkle-proofs-go-tlog.test.ts, which
// holds meshsig's proof verifiers and generators to them.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

type hashReader []tlog.Hash

func (r hashReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = r[x]
	}
	return out, nil
}

type kase struct {
	Kind   string   `json:"kind"`
	Index  int64    `json:"index,omitempty"`
	Size   int64    `json:"size"`
	First  int64    `json:"first,omitempty"`
	Leaf   string   `json:"leaf,omitempty"`
	Root   string   `json:"root"`
	Old    string   `json:"old,omitempty"`
	Proof  []string `json:"proof"`
	GoOk   bool     `json:"goOk"`
	Mutate string   `json:"mutate"`
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
func list(p []tlog.Hash) []string {
	out := make([]string, len(p))
	for i, h := range p {
		out[i] = b64(h)
	}
	return out
}

func mutate(r *rand.Rand, p []tlog.Hash) ([]tlog.Hash, string) {
	q := append([]tlog.Hash(nil), p...)
	switch r.Intn(5) {
	case 0:
		return q, "none"
	case 1:
		if len(q) == 0 {
			return q, "none"
		}
		q[r.Intn(len(q))][r.Intn(32)] ^= 1
		return q, "flip"
	case 2:
		if len(q) == 0 {
			return q, "none"
		}
		return q[:len(q)-1], "drop-last"
	case 3:
		var h tlog.Hash
		r.Read(h[:])
		return append(q, h), "append"
	default:
		if len(q) < 2 {
			return q, "none"
		}
		i := r.Intn(len(q) - 1)
		q[i], q[i+1] = q[i+1], q[i]
		return q, "swap"
	}
}

func main() {
	r := rand.New(rand.NewSource(82))
	const max = 300
	var storage []tlog.Hash
	var leaves []tlog.Hash
	for i := int64(0); i < max; i++ {
		var data [8]byte
		r.Read(data[:])
		leaf := tlog.RecordHash(data[:])
		leaves = append(leaves, leaf)
		hs, _ := tlog.StoredHashes(i, data[:], hashReader(storage))
		storage = append(storage, hs...)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]interface{}{"kind": "leaves", "leaves": list(leaves)})
	for n := 0; n < 4000; n++ {
		size := int64(1 + r.Intn(max))
		root, err := tlog.TreeHash(size, hashReader(storage))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if r.Intn(2) == 0 {
			idx := r.Int63n(size)
			p, _ := tlog.ProveRecord(size, idx, hashReader(storage))
			q, how := mutate(r, p)
			leaf := leaves[idx]
			if how == "none" && r.Intn(4) == 0 {
				idx = (idx + 1) % size
				how = "wrong-index"
			}
			ok := tlog.CheckRecord(q, size, root, idx, leaf) == nil
			enc.Encode(kase{Kind: "inclusion", Index: idx, Size: size, Leaf: b64(leaf), Root: b64(root), Proof: list(q), GoOk: ok, Mutate: how})
		} else {
			first := int64(1 + r.Intn(int(size)))
			old, _ := tlog.TreeHash(first, hashReader(storage))
			p, _ := tlog.ProveTree(size, first, hashReader(storage))
			q, how := mutate(r, p)
			ok := tlog.CheckTree(q, size, root, first, old) == nil
			enc.Encode(kase{Kind: "consistency", First: first, Size: size, Root: b64(root), Old: b64(old), Proof: list(q), GoOk: ok, Mutate: how})
		}
	}
}
