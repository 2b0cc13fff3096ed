// notecheck: an independent check of meshsig's C2SP checkpoint notes and
// RFC 6962 proofs with golang.org/x/mod/sumdb/note and sumdb/tlog (built
// offline by test/integration/audit-go-interop.test.ts). Reads JSON on stdin,
// prints "ok" and exits 0 when everything verifies, else prints why, exit 1.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Vkey         string   `json:"vkey"`
	Note         string   `json:"note"`
	WitnessVkeys []string `json:"witnessVkeys"`
	Inclusion    struct {
		Index    int64    `json:"index"`
		Size     int64    `json:"size"`
		LeafHash string   `json:"leafHash"`
		Root     string   `json:"root"`
		Proof    []string `json:"proof"`
	} `json:"inclusion"`
	Consistency struct {
		First      int64    `json:"first"`
		Second     int64    `json:"second"`
		FirstRoot  string   `json:"firstRoot"`
		SecondRoot string   `json:"secondRoot"`
		Proof      []string `json:"proof"`
	} `json:"consistency"`
}

func fail(format string, a ...interface{}) {
	fmt.Printf(format+"\n", a...)
	os.Exit(1)
}

func hash(b64 string) tlog.Hash {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != 32 {
		fail("bad hash %q", b64)
	}
	copy(h[:], b)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

// cosigned checks one cosignature/v1 (type 0x04) line for vkey over text.
func cosigned(text string, sigs []string, vkey string) bool {
	// name+hex(keyID)+base64(type||key): names have no '+', base64 may
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		fail("bad witness vkey %q", vkey)
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 33 || key[0] != 0x04 {
		fail("bad witness vkey %q", vkey)
	}
	name := parts[0]
	h := sha256.Sum256(append([]byte(name+"\n\x04"), key[1:]...))
	for _, line := range sigs {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || f[1] != name {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil || len(sig) != 4+8+64 || string(sig[:4]) != string(h[:4]) {
			continue
		}
		t := binary.BigEndian.Uint64(sig[4:12])
		msg := "cosignature/v1\ntime " + strconv.FormatUint(t, 10) + "\n" + text
		return ed25519.Verify(ed25519.PublicKey(key[1:]), []byte(msg), sig[12:])
	}
	return false
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("bad input: %v", err)
	}
	v, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	n, err := note.Open([]byte(in.Note), note.VerifierList(v))
	if err != nil {
		fail("note: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != v.Name() {
		fail("checkpoint text: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	root := hash(lines[2])
	raw := strings.Split(strings.TrimSuffix(in.Note[strings.LastIndex(in.Note, "\n\n")+2:], "\n"), "\n")
	for _, w := range in.WitnessVkeys {
		if !cosigned(n.Text, raw, w) {
			fail("no valid cosignature of %s", w)
		}
	}
	inc := in.Inclusion
	if inc.Size != size || hash(inc.Root) != root {
		fail("inclusion proof is not for the note's tree")
	}
	if err := tlog.CheckRecord(hashes(inc.Proof), inc.Size, root, inc.Index, hash(inc.LeafHash)); err != nil {
		fail("inclusion: %v", err)
	}
	con := in.Consistency
	if con.Second != size || hash(con.SecondRoot) != root {
		fail("consistency proof is not for the note's tree")
	}
	if err := tlog.CheckTree(hashes(con.Proof), con.Second, root, con.First, hash(con.FirstRoot)); err != nil {
		fail("consistency: %v", err)
	}
	fmt.Println("ok")
}

