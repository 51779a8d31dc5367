package bolt

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// Format 3 compresses what grows with every resource and is read whole: the body of
// each stored version (bucket ver) and each resource's entry list (bucket ridx), with
// S2 (a Snappy extension: about 10 µs to compress and 1.5 µs to decompress a
// resource) and a dictionary built from the official FHIR R4 examples
// (fhirjson.s2dict, made by internal/gendict). A short JSON resource shares most of
// its text with others (element names, code systems, profiles), which the dictionary
// holds once for the whole file: a body of 0.5–1.5 KB shrinks 2 to 3 times, where a
// compressor without one finds little to share inside a single body (1.3 times).
//
//	ver   flags|flagPacked … (as storecodec.EncodeRecord) s2(body)
//	ridx  0 0 0 s2(the compact list without its leading 0)
//
// A value is packed only when that makes it shorter, so both forms are read
// everywhere: the flag bit (which storecodec leaves to the backend) tells a packed
// record, and the ordinal 0, never assigned, a packed entry list. Decompression gives
// back the exact bytes: a read returns the body as submitted.

//go:embed fhirjson.s2dict
var fhirDictBytes []byte

// flagPacked marks a record whose body is compressed (storecodec.FlagBackend).
const flagPacked = storecodec.FlagBackend

// minPack is the shortest value worth compressing: below, the gain is a few bytes.
const minPack = 64

// maxUnpacked bounds what a packed value may claim to hold, so that a corrupt length
// cannot make a read allocate without bound (a request body is far smaller).
const maxUnpacked = 1 << 30

// packedListPrefix starts a compressed entry list.
var packedListPrefix = []byte{0, 0, 0}

// fhirDict is the dictionary, parsed on first use; an S2 dictionary is safe for
// concurrent encoding and decoding.
var fhirDict = sync.OnceValue(func() *s2.Dict {
	d := s2.NewDict(fhirDictBytes)
	if d == nil {
		panic("bolt: invalid S2 dictionary") // embedded and pinned by a test
	}
	return d
})

// pack appends the S2 block of src to dst, or returns ok=false when the block is no
// shorter than src. better chooses S2's better mode: about a quarter smaller than its
// fast mode on a resource body, but each call clears 576 KiB of hash tables, about
// 7 µs, which the fast mode (64 KiB) does not. Bodies are kept forever and read
// often, so they take it; entry lists, read only when their resource changes, do not.
func pack(dst, src []byte, better bool) (out []byte, ok bool) {
	if len(src) < minPack {
		return dst, false
	}
	var block []byte
	if better {
		block = fhirDict().EncodeBetter(nil, src)
	} else {
		block = fhirDict().Encode(nil, src)
	}
	if len(block) >= len(src) {
		return dst, false
	}
	return append(dst, block...), true
}

// unpack decompresses one block into fresh memory.
func unpack(block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil || n > maxUnpacked {
		return nil, fmt.Errorf("%w: compressed value of %d bytes: %v", errCorrupt, n, err)
	}
	out, err := fhirDict().Decode(make([]byte, n), block)
	if err != nil {
		return nil, fmt.Errorf("%w: compressed value: %v", errCorrupt, err)
	}
	return out, nil
}

// encodeStored is the ver value of rec: its storecodec record, with the body packed
// when that pays.
func encodeStored(rec *fhir.Record) []byte {
	plain := storecodec.EncodeRecord(rec)
	if rec.Deleted || len(rec.Body) < minPack {
		return plain
	}
	head := plain[:len(plain)-len(rec.Body)]
	packed, ok := pack(bytes.Clone(head), rec.Body, true)
	if !ok {
		return plain
	}
	packed[0] |= flagPacked
	return packed
}

// decodeStored reads a ver value of either form.
func decodeStored(typ, id string, version int64, v []byte) (*fhir.Record, error) {
	if len(v) == 0 || v[0]&flagPacked == 0 {
		return storecodec.DecodeRecord(typ, id, version, v)
	}
	return storecodec.DecodeRecordBody(typ, id, version, v, unpack)
}

// packList returns the stored form of a compact entry list: packed when that pays.
func packList(list []byte) []byte {
	if len(list) < minPack {
		return list
	}
	if packed, ok := pack(bytes.Clone(packedListPrefix), list[1:], false); ok {
		return packed
	}
	return list
}

// isPackedList tells a packed entry list.
func isPackedList(v []byte) bool { return bytes.HasPrefix(v, packedListPrefix) }

// unpackList returns the compact list that a stored list (packed or not) holds.
func unpackList(v []byte) ([]byte, error) {
	if !isPackedList(v) {
		return v, nil
	}
	raw, err := unpack(v[len(packedListPrefix):])
	if err != nil {
		return nil, err
	}
	return append([]byte{0}, raw...), nil
}
