// blake3Into: BLAKE3-256 of a small input, written into the caller's 32-byte buffer.
//
// Why the addon has its own BLAKE3: the store's hash comes from @napi-rs/blake-hash (SIMD,
// 3-4 GB/s), whose library takes 5-10 ms to load on the bench VM, and whose every call returns
// a newly allocated Buffer (about 3 us). Small commands (restore one file) and the main
// thread's small hashes (trees, listing fingerprints, 4,500 of them in an unchanged snapshot of
// the bench set) need neither the speed nor the cost: this plain implementation of the
// specification runs at about 1 GB/s, is already loaded, and writes into a buffer the caller
// reuses. lib/hash/blake3.ts sends it inputs up to 1 MiB; bulk data stays with the SIMD one.
// Parity with both other implementations is tested (test/hash/blake3.test.ts).
//
// Written from the BLAKE3 specification (Aumasson, Neves, O'Connor, Wilcox-O'Hearn, 2020):
// 1 KiB chunks of 64-byte blocks, a 7-round compression function, chunk chaining values merged
// pairwise into a binary tree, the root flagged. Only hashing (no keyed mode, no XOF beyond 32
// bytes).
#include "common.h"

#include <cstdint>
#include <cstring>

namespace foxing {
namespace {

constexpr uint32_t IV[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                            0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};
constexpr uint8_t PERMUTATION[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
constexpr uint32_t CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8;
constexpr size_t BLOCK_LEN = 64, CHUNK_LEN = 1024;

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

inline void G(uint32_t* s, int a, int b, int c, int d, uint32_t mx, uint32_t my) {
  s[a] = s[a] + s[b] + mx;
  s[d] = Rotr(s[d] ^ s[a], 16);
  s[c] = s[c] + s[d];
  s[b] = Rotr(s[b] ^ s[c], 12);
  s[a] = s[a] + s[b] + my;
  s[d] = Rotr(s[d] ^ s[a], 8);
  s[c] = s[c] + s[d];
  s[b] = Rotr(s[b] ^ s[c], 7);
}

// The compression function; writes the 8-word chaining value (the first half of the output).
void Compress(const uint32_t cv[8], const uint32_t block[16], uint64_t counter, uint32_t blockLen,
              uint32_t flags, uint32_t out[8]) {
  uint32_t s[16] = {cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                    IV[0], IV[1], IV[2], IV[3], static_cast<uint32_t>(counter),
                    static_cast<uint32_t>(counter >> 32), blockLen, flags};
  uint32_t m[16];
  std::memcpy(m, block, sizeof m);
  for (int round = 0; round < 7; round++) {
    G(s, 0, 4, 8, 12, m[0], m[1]);
    G(s, 1, 5, 9, 13, m[2], m[3]);
    G(s, 2, 6, 10, 14, m[4], m[5]);
    G(s, 3, 7, 11, 15, m[6], m[7]);
    G(s, 0, 5, 10, 15, m[8], m[9]);
    G(s, 1, 6, 11, 12, m[10], m[11]);
    G(s, 2, 7, 8, 13, m[12], m[13]);
    G(s, 3, 4, 9, 14, m[14], m[15]);
    if (round < 6) {
      uint32_t p[16];
      for (int i = 0; i < 16; i++) p[i] = m[PERMUTATION[i]];
      std::memcpy(m, p, sizeof m);
    }
  }
  for (int i = 0; i < 8; i++) out[i] = s[i] ^ s[i + 8];
}

// A block as 16 little-endian words, zero-padded past `len`.
void LoadBlock(const uint8_t* p, size_t len, uint32_t block[16]) {
  uint8_t bytes[BLOCK_LEN] = {0};
  if (len > 0) std::memcpy(bytes, p, len);
  for (int i = 0; i < 16; i++) {
    block[i] = static_cast<uint32_t>(bytes[4 * i]) | static_cast<uint32_t>(bytes[4 * i + 1]) << 8 |
               static_cast<uint32_t>(bytes[4 * i + 2]) << 16 | static_cast<uint32_t>(bytes[4 * i + 3]) << 24;
  }
}

// What the last compression of a node needs, kept back until it is known whether that node is
// the root (which is compressed with ROOT).
struct Output {
  uint32_t cv[8];
  uint32_t block[16];
  uint64_t counter;
  uint32_t blockLen;
  uint32_t flags;

  void ChainingValue(uint32_t out[8]) const { Compress(cv, block, counter, blockLen, flags, out); }
  void Root(uint32_t out[8]) const { Compress(cv, block, 0, blockLen, flags | ROOT, out); }
};

// Chunk `index` (at most 1024 bytes; only the last chunk of the input may be shorter or empty).
Output ChunkOutput(const uint8_t* p, size_t len, uint64_t index) {
  Output o;
  std::memcpy(o.cv, IV, sizeof o.cv);
  size_t blocks = len == 0 ? 1 : (len + BLOCK_LEN - 1) / BLOCK_LEN;
  for (size_t b = 0; b + 1 < blocks; b++) {
    uint32_t block[16];
    LoadBlock(p + b * BLOCK_LEN, BLOCK_LEN, block);
    Compress(o.cv, block, index, BLOCK_LEN, b == 0 ? CHUNK_START : 0, o.cv);
  }
  size_t lastLen = len - (blocks - 1) * BLOCK_LEN;
  LoadBlock(p + (blocks - 1) * BLOCK_LEN, lastLen, o.block);
  o.counter = index;
  o.blockLen = static_cast<uint32_t>(lastLen);
  o.flags = (blocks == 1 ? CHUNK_START : 0) | CHUNK_END;
  return o;
}

Output ParentOutput(const uint32_t left[8], const uint32_t right[8]) {
  Output o;
  std::memcpy(o.cv, IV, sizeof o.cv);
  std::memcpy(o.block, left, 32);
  std::memcpy(o.block + 8, right, 32);
  o.counter = 0;
  o.blockLen = BLOCK_LEN;
  o.flags = PARENT;
  return o;
}

void Hash(const uint8_t* data, size_t len, uint8_t out[32]) {
  // Chaining values of complete subtrees, left to right; a 64-bit chunk count needs at most 54.
  uint32_t stack[64][8];
  size_t depth = 0;
  uint64_t chunk = 0;
  while (len - chunk * CHUNK_LEN > CHUNK_LEN) {
    uint32_t cv[8];
    ChunkOutput(data + chunk * CHUNK_LEN, CHUNK_LEN, chunk).ChainingValue(cv);
    chunk++;
    // Merge while the number of chunks so far is even at this level: a complete subtree.
    for (uint64_t total = chunk; (total & 1) == 0; total >>= 1) {
      ParentOutput(stack[--depth], cv).ChainingValue(cv);
    }
    std::memcpy(stack[depth++], cv, sizeof cv);
  }
  Output o = ChunkOutput(data + chunk * CHUNK_LEN, len - chunk * CHUNK_LEN, chunk);
  while (depth > 0) {
    uint32_t cv[8];
    o.ChainingValue(cv);
    o = ParentOutput(stack[--depth], cv);
  }
  uint32_t root[8];
  o.Root(root);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = static_cast<uint8_t>(root[i]);
    out[4 * i + 1] = static_cast<uint8_t>(root[i] >> 8);
    out[4 * i + 2] = static_cast<uint8_t>(root[i] >> 16);
    out[4 * i + 3] = static_cast<uint8_t>(root[i] >> 24);
  }
}

Napi::Value Blake3Into(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    throw Napi::TypeError::New(env, "blake3Into: expected (data: Uint8Array, out: Uint8Array)");
  }
  Napi::TypedArray data = info[0].As<Napi::TypedArray>();
  Napi::TypedArray out = info[1].As<Napi::TypedArray>();
  if (out.ByteLength() < 32) throw Napi::RangeError::New(env, "blake3Into: out must hold 32 bytes");
  const uint8_t* in = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
  uint8_t* dst = static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset();
  Hash(in, data.ByteLength(), dst);
  return env.Undefined();
}

}  // namespace

void InitBlake3(Napi::Env env, Napi::Object exports) {
  exports.Set("blake3Into", Napi::Function::New(env, Blake3Into, "blake3Into"));
}

}  // namespace foxing
