// bfloat16 (the upper 16 bits of an IEEE float32) conversions and the MPI sum of bf16 buffers:
// each pair is added in f32 and rounded to nearest even, NaN kept (quiet).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace axmpi {

inline float bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN stays NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline void toBf16(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = f32ToBf16(src[i]);
}

inline void fromBf16(const uint16_t* src, float* dst, size_t n, float scale) {
  for (size_t i = 0; i < n; i++) dst[i] = bf16ToF32(src[i]) * scale;
}

/** MPI_User_function: inout[i] = bf16(in[i] + inout[i]). */
inline void bf16SumOp(void* in, void* inout, int* len, MPI_Datatype*) {
  auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *len; i++) b[i] = f32ToBf16(bf16ToF32(a[i]) + bf16ToF32(b[i]));
}

}  // namespace axmpi
