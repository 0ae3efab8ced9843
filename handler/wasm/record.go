package wasm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// record is what <entry>.sum holds of an artifact: its size and SHA-256, so
// that a damaged artifact is compiled again rather than loaded, and the
// facts of its module, which the runner needs and a create with a cached
// artifact never reads the module for.
//
// SHA-256 and not a cheaper checksum: a checksum an attacker can keep
// matching (a CRC with four chosen bytes) would let anyone who could write
// an artifact, and not its record, pass the check with code of their own.
type record struct {
	size   int64
	sha256 [sha256.Size]byte
	facts  ModuleFacts
}

// recordVersion starts every record; a record of another format (an older
// wrunc's CRC-32C, or one without the artifact's kind) does not parse, and
// its entry is compiled again.
const recordVersion = "wrunc-artifact-3"

func recordOf(artifact []byte, facts ModuleFacts) record {
	return record{size: int64(len(artifact)), sha256: sha256.Sum256(artifact), facts: facts}
}

// The kind of artifact a record's entry holds, which the runner loads
// differently.
const (
	kindModule    = "module"
	kindComponent = "component"
)

func (r record) String() string {
	kind := kindModule
	if r.facts.Component {
		kind = kindComponent
	}
	return fmt.Sprintf("%s kind=%s size=%d sha256=%s memories=%d tables=%d\n", recordVersion, kind, r.size,
		hex.EncodeToString(r.sha256[:]), r.facts.Memories, r.facts.Tables)
}

// parseRecord accepts exactly what String writes.
func parseRecord(s string) (record, error) {
	var r record
	var kind, sum string
	_, err := fmt.Sscanf(s, recordVersion+" kind=%s size=%d sha256=%64s memories=%d tables=%d\n",
		&kind, &r.size, &sum, &r.facts.Memories, &r.facts.Tables)
	r.facts.Component = kind == kindComponent
	if err == nil && kind != kindModule && kind != kindComponent {
		err = fmt.Errorf("unknown kind %q", kind)
	}
	if err == nil {
		var b []byte
		if b, err = hex.DecodeString(sum); err == nil && len(b) == sha256.Size {
			copy(r.sha256[:], b)
		}
	}
	if err != nil || r.size < 0 || r.String() != s || strings.Count(s, "\n") != 1 {
		return record{}, fmt.Errorf("malformed wasm cache record %q", s)
	}
	return r, nil
}

// matches tells whether data is the artifact the record describes.
func (r record) matches(data []byte) bool {
	return int64(len(data)) == r.size && sha256.Sum256(data) == r.sha256
}
