// membw: how fast one and two cores read memory in the two patterns dbksvd's memory-bound stages use: a long
// sequential read, and whole columns of COLS floats at random (a G column per matching-pursuit step, a residual
// column per (sample, atom) pair of a Jacobi pass). The figures of docs/benchmarks.md ("Where an iteration's time
// goes on AVX-512") come from it.
//   gcc -O3 -march=native -ffast-math -fopenmp -o /tmp/membw tools/membw.c
//   /tmp/membw MB COLS     e.g. 64 4096 (G at m = 4096), 28 2304 (one task's residuals), 2400 2304 (a batch's)
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 600;
  int d = argc > 2 ? atoi(argv[2]) : 2304;
  size_t n = mb * 1024 * 1024 / 4;
  size_t cols = n / d;
  float *a = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
  if (a == NULL || cols == 0) {
    fprintf(stderr, "membw: cannot hold %zu MB of columns of %d floats\n", mb, d);
    return 2;
  }
#pragma omp parallel for
  for (size_t i = 0; i < n; i++) a[i] = (float)(i % 7);
  size_t picks = cols * 2 > 200000 ? cols * 2 : 200000;
  unsigned *idx = malloc(picks * sizeof(unsigned));
  srand(1);
  for (size_t i = 0; i < picks; i++) idx[i] = (unsigned)(rand() % cols);
  double sink = 0;
  for (int th = 1; th <= 2; th++) {
    omp_set_num_threads(th);
    double seq = 1e9, rnd = 1e9;
    for (int rep = 0; rep < 3; rep++) {
      double t0 = now();
      float tot = 0;
#pragma omp parallel for reduction(+ : tot)
      for (size_t i = 0; i < n; i++) tot += a[i];
      double t = now() - t0;
      seq = t < seq ? t : seq;
      sink += tot;
      t0 = now();
      tot = 0;
#pragma omp parallel for reduction(+ : tot)
      for (size_t i = 0; i < picks; i++) {
        const float *c = a + (size_t)idx[i] * d;
        for (int j = 0; j < d; j++) tot += c[j];
      }
      t = now() - t0;
      rnd = t < rnd ? t : rnd;
      sink += tot;
    }
    printf("%zu MB, %d thread(s): sequential %.1f GB/s, random columns of %d floats %.1f GB/s\n", mb, th,
           n * 4 / seq / 1e9, d, picks * (double)d * 4 / rnd / 1e9);
  }
  return sink == 42.0; // keeps the sums alive
}
