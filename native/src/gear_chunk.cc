// gearChunkLengths: the FastCDC-style gear scan, the hot loop of chunking.
// Must give exactly the cut points of lib/chunker/gear-chunker.ts (the TS twin; parity-tested).
//
// Rule (see lib/chunker/gear-chunker.ts for the full statement): h is the 32-bit gear hash of
// the chunk's bytes so far (h = (h << 1) + G[byte], reset at each chunk start). A chunk of
// length L ends at the first L in [min, max] where L < avg ? (h & maskS) == 0 : (h & maskL) == 0,
// or at L == max. Because each step shifts h left by one, a byte stops influencing h after 32
// steps, so rolling can start at min - 32 instead of 0 with identical results.
#include "common.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace foxing {
namespace {

// Length of the chunk that starts at p, or 0 when `rem` bytes are not enough to decide
// (no cut found and rem < max): the caller then carries the tail or, if final, emits it.
inline size_t FindCut(const uint8_t* p, size_t rem, const uint32_t* G, size_t min, size_t avg,
                      size_t max, uint32_t maskS, uint32_t maskL) {
  const size_t limit = rem < max ? rem : max;
  if (limit < min) return 0;
  uint32_t h = 0;
  size_t i = min > 32 ? min - 32 : 0;
  // Warm-up: bytes before the first judged position only feed the hash.
  for (; i + 1 < min; i++) h = (h << 1) + G[p[i]];
  // Two loops instead of one with a length test per byte: below avg the strict mask applies,
  // from avg on the easy one (normalized chunking). The loop is bound by the h -> h chain and
  // the two loads per byte: 4x unrolling with one branch per 4 bytes, and splitting the chain
  // (h4 = (h << 4) + t, t computed off-chain) measured no faster on this machine (~1 GB/s).
  const size_t end1 = avg - 1 < limit ? avg - 1 : limit;
  for (; i < end1; i++) {
    h = (h << 1) + G[p[i]];
    if ((h & maskS) == 0) return i + 1;
  }
  for (; i < limit; i++) {
    h = (h << 1) + G[p[i]];
    if ((h & maskL) == 0) return i + 1;
  }
  return limit == max ? max : 0;
}

uint32_t GetU32(const Napi::CallbackInfo& info, size_t index, const char* what) {
  int64_t v = GetInt64(info, index, what);
  if (v < 0 || v > 0xFFFFFFFFLL) {
    throw Napi::RangeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a uint32");
  }
  return static_cast<uint32_t>(v);
}

Napi::Value GearChunkLengths(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "gearChunkLengths: expected 8 arguments");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "The \"buf\" argument must be a Uint8Array");
  }
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[1].As<Napi::Uint32Array>().ElementLength() != 256) {
    throw Napi::TypeError::New(env, "The \"gear\" argument must be a Uint32Array of 256 values");
  }
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  const uint8_t* data = buf.Data();  // already adjusted for byteOffset
  const size_t n = buf.ElementLength();
  // Copy the table to the stack: it is 1 KiB and the compiler then knows it cannot alias `data`.
  uint32_t G[256];
  std::memcpy(G, info[1].As<Napi::Uint32Array>().Data(), sizeof G);
  const size_t min = GetU32(info, 2, "min");
  const size_t avg = GetU32(info, 3, "avg");
  const size_t max = GetU32(info, 4, "max");
  const uint32_t maskS = GetU32(info, 5, "maskS");
  const uint32_t maskL = GetU32(info, 6, "maskL");
  if (!info[7].IsBoolean()) throw Napi::TypeError::New(env, "The \"final\" argument must be a boolean");
  const bool final = info[7].As<Napi::Boolean>().Value();
  if (!(min >= 1 && min <= avg && avg <= max)) {
    throw Napi::RangeError::New(env, "gearChunkLengths: need 1 <= min <= avg <= max");
  }

  std::vector<uint32_t> lengths;
  lengths.reserve(n / avg + 16);
  size_t pos = 0;
  while (pos < n) {
    size_t cut = FindCut(data + pos, n - pos, G, min, avg, max, maskS, maskL);
    if (cut == 0) {
      if (!final) break;  // unfinished tail: the caller carries it into the next call
      cut = n - pos;
    }
    lengths.push_back(static_cast<uint32_t>(cut));
    pos += cut;
  }

  Napi::Uint32Array out = Napi::Uint32Array::New(env, lengths.size());
  if (!lengths.empty()) std::memcpy(out.Data(), lengths.data(), lengths.size() * sizeof(uint32_t));
  return out;
}

}  // namespace

void InitGearChunk(Napi::Env env, Napi::Object exports) {
  exports.Set("gearChunkLengths", Napi::Function::New(env, GearChunkLengths, "gearChunkLengths"));
}

}  // namespace foxing
