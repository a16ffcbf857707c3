// Memory read bandwidth: sums a 1 GiB float array with independent accumulators, so the loop is
// limited by memory rather than by additions. Prints the best of five passes in GB/s: one thread
// by wall time and by its own CPU time, and every OpenMP thread by wall time. Built and run by
// scripts/bench/index.sh.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// CPU time of the calling thread: on a shared machine it excludes the time other processes ran.
static double thread_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double best_pass(const float* data, size_t n, int threads, int passes, double (*clock)(void)) {
  double best = 1e30;
  volatile float sink = 0;
  for (int pass = 0; pass < passes; pass++) {
    double start = clock();
    float total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (size_t block = 0; block < n / 16; block++) {
      // Sixteen lanes summed as a tree keep the adds independent, so they vectorise.
      const float* x = data + block * 16;
      float a = (x[0] + x[1]) + (x[2] + x[3]), b = (x[4] + x[5]) + (x[6] + x[7]);
      float c = (x[8] + x[9]) + (x[10] + x[11]), d = (x[12] + x[13]) + (x[14] + x[15]);
      total += (a + b) + (c + d);
    }
    sink += total;
    double elapsed = clock() - start;
    if (elapsed < best) best = elapsed;
  }
  (void)sink;
  return best;
}

int main(void) {
  size_t bytes = (size_t)1 << 30;
  size_t n = bytes / sizeof(float);
  float* data = aligned_alloc(64, bytes);
  for (size_t i = 0; i < n; i++) data[i] = (float)(i & 1023);
  int cores = omp_get_max_threads();
  double one = best_pass(data, n, 1, 5, now_seconds);
  double one_cpu = best_pass(data, n, 1, 5, thread_cpu_seconds);
  double all = best_pass(data, n, cores, 5, now_seconds);
  printf("{\"bytes\": %zu, \"oneThreadGBps\": %.2f, \"oneThreadPerCpuSecondGBps\": %.2f, "
         "\"allThreadsGBps\": %.2f, \"threads\": %d}\n",
         bytes, bytes / one / 1e9, bytes / one_cpu / 1e9, bytes / all / 1e9, cores);
  free(data);
  return 0;
}
