// Runtime support of the wasm module, in place of the libc it does not link: where the linker put
// the end of static data and stack (the first byte the TypeScript allocator may hand out), and the
// memset/memcpy/memmove that clang emits for zeroing and copying loops.
#include "ops_common.h"

extern unsigned char __heap_base;

WASM_EXPORT size_t runtime_heap_base(void) { return (size_t)&__heap_base; }

__attribute__((no_builtin("memset"))) void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  for (size_t i = 0; i < n; i++) d[i] = (unsigned char)c;
  return dst;
}

__attribute__((no_builtin("memcpy"))) void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  for (size_t i = 0; i < n; i++) d[i] = s[i];
  return dst;
}

__attribute__((no_builtin("memmove"))) void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    for (size_t i = 0; i < n; i++) d[i] = s[i];
  } else {
    for (size_t i = n; i > 0; i--) d[i - 1] = s[i - 1];
  }
  return dst;
}
