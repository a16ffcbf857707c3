// CPU time of one exhaustive inner-product query over FAISS's stored vectors, without the Node
// binding: FAISS's per-vector scan (below distance_compute_blas_threshold queries), FAISS's sgemm
// path (above it), and one BLAS sgemv as the addon does for single queries. Median of 25 queries.
// Built and run by scripts/bench/index.sh.
// Usage: flat-scan VECTORS DIMENSION
#include <faiss/IndexFlat.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

extern "C" int sgemv_(const char* trans, const int* m, const int* n, const float* alpha,
                      const float* a, const int* lda, const float* x, const int* incx,
                      const float* beta, float* y, const int* incy);

static double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double median_query_ms(const faiss::IndexFlatIP& index, const std::vector<float>& data) {
  std::vector<double> times;
  float distances[10];
  faiss::Index::idx_t labels[10];
  for (int query = 0; query < 25; query++) {
    double start = cpu_seconds();
    index.search(1, data.data() + static_cast<size_t>(query) * index.d, 10, distances, labels);
    times.push_back((cpu_seconds() - start) * 1e3);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

static double median_gemv_ms(faiss::IndexFlatIP& index, const std::vector<float>& data) {
  std::vector<double> times;
  std::vector<float> scores(index.ntotal);
  int dimension = index.d, rows = static_cast<int>(index.ntotal), stride = 1;
  const float one = 1.0f, zero = 0.0f;
  for (int query = 0; query < 25; query++) {
    double start = cpu_seconds();
    sgemv_("T", &dimension, &rows, &one, index.get_xb(), &dimension,
           data.data() + static_cast<size_t>(query) * dimension, &stride, &zero, scores.data(),
           &stride);
    std::partial_sort(scores.begin(), scores.begin() + 10, scores.end(), std::greater<float>());
    times.push_back((cpu_seconds() - start) * 1e3);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  int d = argc > 2 ? std::atoi(argv[2]) : 384;
  std::vector<float> data(static_cast<size_t>(n) * d);
  std::mt19937 random(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (auto& value : data) value = uniform(random);
  faiss::IndexFlatIP index(d);
  index.add(n, data.data());
  faiss::distance_compute_blas_threshold = 20;
  double scan = median_query_ms(index, data);
  faiss::distance_compute_blas_threshold = 1;
  double blas = median_query_ms(index, data);
  double gemv = median_gemv_ms(index, data);
  std::printf(
      "{\"vectors\": %d, \"dimension\": %d, \"scanCpuMs\": %.1f, \"sgemmCpuMs\": %.1f, "
      "\"sgemvCpuMs\": %.1f}\n",
      n, d, scan, blas, gemv);
  return 0;
}
