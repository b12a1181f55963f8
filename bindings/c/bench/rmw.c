/* What an uncontended atomic read-modify-write costs on this machine, next to the plain
 * acquire-load / release-store pair that a lock-free check would use instead: the question
 * behind "the C ABI pays ~9 RMWs per W1 span" (bindings/c/README.md, Performance).
 *
 *   cc -O2 -std=c99 -Wall -Wextra -pedantic bindings/c/bench/rmw.c -o rmw && ./rmw [iterations]
 *
 * Each variant runs `iterations` times in a non-inlined function, alone and after a 480-byte
 * memcpy (the size of a span record: its stores are still draining when the RMW executes, as
 * in polytrace_span_start). Prints the median of 5 runs in ns per iteration of thread CPU time.
 * Single-threaded: the word is never contended, which is the W1 case.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t word;
static char src[512], dst[512];

static double cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

enum { PLAIN, CAS, CAS_XADD, VARIANTS };
static const char *const names[VARIANTS] = {
    "acquire load + release store (no RMW)",
    "lock cmpxchg + release store (1 RMW: a writer lock)",
    "lock cmpxchg + lock xadd (2 RMWs: a reader lock)",
};

__attribute__((noinline)) static void body(int variant, int copy) {
  if (copy) {
    memcpy(dst, src, 480);
    __asm__ volatile("" ::: "memory");
  }
  uint64_t expected = 0;
  switch (variant) {
  case PLAIN:
    expected = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
    __atomic_store_n(&word, expected, __ATOMIC_RELEASE);
    break;
  case CAS:
    __atomic_compare_exchange_n(&word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    __atomic_store_n(&word, 0, __ATOMIC_RELEASE);
    break;
  default:
    __atomic_compare_exchange_n(&word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&word, 1, __ATOMIC_RELEASE);
    break;
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000000L;
  if (n <= 0) {
    fprintf(stderr, "usage: rmw [iterations > 0]\n");
    return 2;
  }
  for (int copy = 0; copy < 2; copy++) {
    for (int v = 0; v < VARIANTS; v++) {
      double runs[5];
      for (int r = 0; r < 5; r++) {
        double t0 = cpu_ns();
        for (long i = 0; i < n; i++) {
          body(v, copy);
        }
        runs[r] = (cpu_ns() - t0) / (double)n;
      }
      qsort(runs, 5, sizeof runs[0], cmp);
      printf("%-52s %s %6.2f ns/iter\n", names[v], copy ? "after memcpy(480):" : "alone:            ",
             runs[2]);
    }
  }
  return 0;
}
