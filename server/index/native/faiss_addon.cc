// Node-API binding over libfaiss (Debian's libfaiss-dev 1.7.3): one index class whose every
// FAISS call runs on the libuv thread pool and returns a promise. Every FAISS or C++ exception
// becomes a rejected promise with code FAISS_ERROR, so no call can abort the process.
// Built by scripts/setup/30-faiss.sh.
#include <napi.h>

#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

// Fortran BLAS matrix-vector product, from libblas.so.3 as FAISS's own sgemm_ is.
extern "C" int sgemv_(const char* trans, const int* m, const int* n, const float* alpha,
                      const float* a, const int* lda, const float* x, const int* incx,
                      const float* beta, float* y, const int* incy);

// Present when libblas.so.3 is OpenBLAS (Debian's alternatives); weak so another BLAS still loads.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

namespace {

// Flat searches of fewer queries than this use one BLAS sgemv per query instead of FAISS's search.
// FAISS 1.7.3 sends even one query through sgemm, which packs the whole matrix first and so reads
// it twice: 42-51 ms of CPU per 100k x 384 query here against 23 ms for sgemv, which is the
// memory-bandwidth bound. From a few queries on, sgemm's packing pays for itself.
constexpr int kGemvMaxQueries = 4;

// Bumped whenever the JavaScript-visible interface changes, so the loader can reject a stale build.
constexpr int kAddonVersion = 1;

// FAISS 1.7.3 declares idx_t inside Index; later releases move it to the namespace.
using idx_t = faiss::Index::idx_t;

// One FAISS index behind a mutex. FAISS indexes are not safe for concurrent writes, and a search
// racing an add reads a half-grown array, so every operation holds the mutex. The counters are
// copies that the main thread reads without waiting for a running job.
struct SharedIndex {
  std::unique_ptr<faiss::IndexIDMap2> index;
  std::mutex mutex;
  std::atomic<int64_t> count{0};
  std::atomic<bool> trained{false};
  int dimension = 0;
  int threads = 0;
  bool hnsw = false;
  bool ivf = false;
  // IndexHNSW cannot remove vectors, so removal on HNSW marks positions in this bitmap (bit set =
  // removed) and searches skip them through an IDSelector. The marks live in memory only: after
  // deserialising, the caller removes the stale labels again.
  std::vector<uint8_t> removed;
  std::atomic<int64_t> removedCount{0};

  void Adopt(faiss::Index* raw) {
    auto* idmap = dynamic_cast<faiss::IndexIDMap2*>(raw);
    if (idmap == nullptr) {
      delete raw;
      throw std::runtime_error("index is not an IDMap2 index");
    }
    index.reset(idmap);
    idmap->own_fields = true;
    dimension = idmap->d;
    hnsw = dynamic_cast<faiss::IndexHNSW*>(idmap->index) != nullptr;
    ivf = dynamic_cast<faiss::IndexIVF*>(idmap->index) != nullptr;
    Refresh();
  }

  void Refresh() {
    count = index ? index->ntotal - removedCount : 0;
    trained = index ? index->is_trained : false;
    if (index) removed.resize((index->ntotal + 7) / 8, 0);
  }

  // Marks the labels' positions as removed and returns how many were live.
  size_t MarkRemoved(const std::vector<idx_t>& labels) {
    size_t marked = 0;
    for (idx_t label : labels) {
      auto found = index->rev_map.find(label);
      if (found == index->rev_map.end()) continue;
      idx_t position = found->second;
      uint8_t bit = static_cast<uint8_t>(1u << (position & 7));
      if (removed[position >> 3] & bit) continue;
      removed[position >> 3] |= bit;
      marked++;
    }
    removedCount += marked;
    return marked;
  }
};

std::vector<float> CopyFloats(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a Float32Array");
  }
  auto array = value.As<Napi::Float32Array>();
  return std::vector<float>(array.Data(), array.Data() + array.ElementLength());
}

// Labels travel as Float64Array: JavaScript callers assign them from a counter that stays far
// below 2^53, and plain numbers are easier to use as map keys than BigInts.
std::vector<idx_t> CopyLabels(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a Float64Array");
  }
  auto array = value.As<Napi::Float64Array>();
  std::vector<idx_t> labels(array.ElementLength());
  for (size_t i = 0; i < labels.size(); i++) labels[i] = static_cast<idx_t>(array[i]);
  return labels;
}

// Base of every asynchronous operation: runs Run() on a pool thread under the index mutex and
// settles a promise on the main thread.
class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, std::shared_ptr<SharedIndex> shared)
      : Napi::AsyncWorker(env, "faiss"), deferred_(Napi::Promise::Deferred::New(env)),
        shared_(std::move(shared)) {}

  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }

 protected:
  virtual void Run(SharedIndex& shared) = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

  std::shared_ptr<SharedIndex> shared_;

 private:
  void Execute() override {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    // OpenMP keeps the thread count per thread, so a pool thread must set it before each call.
    if (shared_->threads > 0) omp_set_num_threads(shared_->threads);
    try {
      if (!shared_->index && !CreatesIndex()) throw std::runtime_error("index is disposed");
      Run(*shared_);
    } catch (const faiss::FaissException& error) {
      SetError(error.msg);
    } catch (const std::exception& error) {
      SetError(error.what());
    }
    if (shared_->index) shared_->Refresh();
  }

  virtual bool CreatesIndex() const { return false; }

  void OnOK() override { deferred_.Resolve(Result(Env())); }

  void OnError(const Napi::Error& error) override {
    Napi::Error rejection = Napi::Error::New(Env(), error.Message());
    rejection.Set("code", Napi::String::New(Env(), "FAISS_ERROR"));
    deferred_.Reject(rejection.Value());
  }

  Napi::Promise::Deferred deferred_;
};

class AddJob : public Job {
 public:
  AddJob(Napi::Env env, std::shared_ptr<SharedIndex> shared, std::vector<float> vectors,
         std::vector<idx_t> labels)
      : Job(env, std::move(shared)), vectors_(std::move(vectors)), labels_(std::move(labels)) {}

 protected:
  void Run(SharedIndex& shared) override {
    // An untrained IVF index aborts inside add(); reject instead.
    if (!shared.index->is_trained) throw std::runtime_error("index is not trained");
    shared.index->add_with_ids(labels_.size(), vectors_.data(), labels_.data());
  }

 private:
  std::vector<float> vectors_;
  std::vector<idx_t> labels_;
};

class TrainJob : public Job {
 public:
  TrainJob(Napi::Env env, std::shared_ptr<SharedIndex> shared, std::vector<float> vectors)
      : Job(env, std::move(shared)), vectors_(std::move(vectors)) {}

 protected:
  void Run(SharedIndex& shared) override {
    shared.index->train(vectors_.size() / shared.dimension, vectors_.data());
  }

 private:
  std::vector<float> vectors_;
};

class SearchJob : public Job {
 public:
  SearchJob(Napi::Env env, std::shared_ptr<SharedIndex> shared, std::vector<float> queries,
            idx_t k, int efSearch, int nprobe)
      : Job(env, std::move(shared)), queries_(std::move(queries)), k_(k), efSearch_(efSearch),
        nprobe_(nprobe) {}

 protected:
  void Run(SharedIndex& shared) override {
    ApplyParameters(shared);
    idx_t n = queries_.size() / shared.dimension;
    distances_.assign(n * k_, 0.0f);
    labels_.assign(n * k_, -1);
    if (shared.removedCount > 0) {
      SearchSkippingRemoved(shared, n);
      return;
    }
    auto* flat = dynamic_cast<faiss::IndexFlat*>(shared.index->index);
    if (flat && flat->metric_type == faiss::METRIC_INNER_PRODUCT && n < kGemvMaxQueries) {
      for (idx_t query = 0; query < n; query++) SearchFlatByGemv(shared, *flat, query);
      return;
    }
    shared.index->search(n, queries_.data(), k_, distances_.data(), labels_.data());
  }

  Napi::Value Result(Napi::Env env) override {
    auto distances = Napi::Float32Array::New(env, distances_.size());
    std::memcpy(distances.Data(), distances_.data(), distances_.size() * sizeof(float));
    auto labels = Napi::Float64Array::New(env, labels_.size());
    for (size_t i = 0; i < labels_.size(); i++) labels[i] = static_cast<double>(labels_[i]);
    auto result = Napi::Object::New(env);
    result.Set("distances", distances);
    result.Set("labels", labels);
    return result;
  }

 private:
  // The mutex serialises searches, so setting the depth on the shared index is race-free.
  void ApplyParameters(SharedIndex& shared) {
    faiss::Index* inner = shared.index->index;
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(inner); hnsw && efSearch_ > 0) {
      hnsw->hnsw.efSearch = efSearch_;
    }
    if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(inner); ivf && nprobe_ > 0) {
      ivf->nprobe = nprobe_;
    }
  }

  // IndexIDMap2 rejects search parameters in FAISS 1.7.3, so this searches the inner HNSW index
  // with a selector over positions and maps positions to labels itself.
  void SearchSkippingRemoved(SharedIndex& shared, idx_t n) {
    auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(shared.index->index);
    faiss::IDSelectorBitmap removed(shared.removed.size(), shared.removed.data());
    faiss::IDSelectorNot live(&removed);
    faiss::SearchParametersHNSW parameters;
    parameters.efSearch = hnsw->hnsw.efSearch;
    parameters.sel = &live;
    hnsw->search(n, queries_.data(), k_, distances_.data(), labels_.data(), &parameters);
    for (auto& label : labels_) {
      if (label >= 0) label = shared.index->id_map[label];
    }
  }

  // Scores every stored vector with one sgemv, then keeps the k best in a min-heap.
  void SearchFlatByGemv(SharedIndex& shared, faiss::IndexFlat& flat, idx_t query) {
    int dimension = shared.dimension;
    int rows = static_cast<int>(flat.ntotal);
    if (rows == 0) return;
    scores_.resize(rows);
    const float one = 1.0f, zero = 0.0f;
    const int stride = 1;
    // FAISS stores row-major rows of `dimension` floats: to Fortran that is a dimension x rows
    // matrix, so the transposed product gives one score per row.
    sgemv_("T", &dimension, &rows, &one, flat.get_xb(), &dimension,
           queries_.data() + query * dimension, &stride, &zero, scores_.data(), &stride);
    std::vector<std::pair<float, idx_t>> heap;
    heap.reserve(k_);
    auto worse = std::greater<std::pair<float, idx_t>>();
    for (idx_t row = 0; row < rows; row++) {
      if (static_cast<idx_t>(heap.size()) < k_) {
        heap.emplace_back(scores_[row], row);
        std::push_heap(heap.begin(), heap.end(), worse);
      } else if (scores_[row] > heap.front().first) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        heap.back() = {scores_[row], row};
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    }
    std::sort_heap(heap.begin(), heap.end(), worse);
    for (idx_t i = 0; i < k_; i++) {
      bool found = i < static_cast<idx_t>(heap.size());
      distances_[query * k_ + i] = found ? heap[i].first : -FLT_MAX;
      labels_[query * k_ + i] = found ? shared.index->id_map[heap[i].second] : -1;
    }
  }

  std::vector<float> scores_;
  std::vector<float> queries_;
  idx_t k_;
  int efSearch_;
  int nprobe_;
  std::vector<float> distances_;
  std::vector<idx_t> labels_;
};

class RemoveJob : public Job {
 public:
  RemoveJob(Napi::Env env, std::shared_ptr<SharedIndex> shared, std::vector<idx_t> labels)
      : Job(env, std::move(shared)), labels_(std::move(labels)) {}

 protected:
  void Run(SharedIndex& shared) override {
    if (shared.hnsw) {
      removed_ = shared.MarkRemoved(labels_);
      return;
    }
    faiss::IDSelectorBatch selector(labels_.size(), labels_.data());
    removed_ = shared.index->remove_ids(selector);
  }

  Napi::Value Result(Napi::Env env) override {
    return Napi::Number::New(env, static_cast<double>(removed_));
  }

 private:
  std::vector<idx_t> labels_;
  size_t removed_ = 0;
};

class ReconstructJob : public Job {
 public:
  ReconstructJob(Napi::Env env, std::shared_ptr<SharedIndex> shared, std::vector<idx_t> labels)
      : Job(env, std::move(shared)), labels_(std::move(labels)) {}

 protected:
  void Run(SharedIndex& shared) override {
    vectors_.assign(labels_.size() * shared.dimension, 0.0f);
    for (size_t i = 0; i < labels_.size(); i++) {
      shared.index->reconstruct(labels_[i], vectors_.data() + i * shared.dimension);
    }
  }

  Napi::Value Result(Napi::Env env) override {
    auto vectors = Napi::Float32Array::New(env, vectors_.size());
    std::memcpy(vectors.Data(), vectors_.data(), vectors_.size() * sizeof(float));
    return vectors;
  }

 private:
  std::vector<idx_t> labels_;
  std::vector<float> vectors_;
};

// Lists the labels of every live vector, in storage order.
class LabelsJob : public Job {
 public:
  using Job::Job;

 protected:
  void Run(SharedIndex& shared) override {
    const auto& idMap = shared.index->id_map;
    for (size_t position = 0; position < idMap.size(); position++) {
      bool removed = shared.removedCount > 0 && (shared.removed[position >> 3] >> (position & 7)) & 1;
      if (!removed) labels_.push_back(idMap[position]);
    }
  }

  Napi::Value Result(Napi::Env env) override {
    auto labels = Napi::Float64Array::New(env, labels_.size());
    for (size_t i = 0; i < labels_.size(); i++) labels[i] = static_cast<double>(labels_[i]);
    return labels;
  }

 private:
  std::vector<idx_t> labels_;
};

class SerializeJob : public Job {
 public:
  using Job::Job;

 protected:
  void Run(SharedIndex& shared) override {
    writer_ = std::make_unique<faiss::VectorIOWriter>();
    faiss::write_index(shared.index.get(), writer_.get());
  }

  // The buffer takes over the serialised bytes instead of copying an index-sized array.
  Napi::Value Result(Napi::Env env) override {
    auto* bytes = new std::vector<uint8_t>(std::move(writer_->data));
    writer_.reset();
    return Napi::Buffer<uint8_t>::New(
        env, bytes->data(), bytes->size(),
        [](Napi::Env, uint8_t*, std::vector<uint8_t>* owned) { delete owned; }, bytes);
  }

 private:
  std::unique_ptr<faiss::VectorIOWriter> writer_;
};

class DisposeJob : public Job {
 public:
  using Job::Job;

 protected:
  void Run(SharedIndex& shared) override { shared.index.reset(); }
};

// Creates an index from a factory description or from serialised bytes, then resolves with a
// NativeIndex wrapping it.
class CreateJob : public Job {
 public:
  CreateJob(Napi::Env env, std::shared_ptr<SharedIndex> shared, Napi::FunctionReference* ctor)
      : Job(env, std::move(shared)), ctor_(ctor) {}

  std::string description;
  faiss::MetricType metric = faiss::METRIC_INNER_PRODUCT;
  int efConstruction = 0;
  std::vector<uint8_t> bytes;
  bool fromBytes = false;

 protected:
  bool CreatesIndex() const override { return true; }

  void Run(SharedIndex& shared) override {
    if (fromBytes) {
      faiss::VectorIOReader reader;
      reader.data = std::move(bytes);
      shared.Adopt(faiss::read_index(&reader));
      return;
    }
    shared.Adopt(faiss::index_factory(shared.dimension, ("IDMap2," + description).c_str(), metric));
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(shared.index->index);
        hnsw && efConstruction > 0) {
      hnsw->hnsw.efConstruction = efConstruction;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    auto* holder = new std::shared_ptr<SharedIndex>(shared_);
    auto external = Napi::External<std::shared_ptr<SharedIndex>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<SharedIndex>* owned) { delete owned; });
    return ctor_->New({external});
  }

 private:
  Napi::FunctionReference* ctor_;
};

class NativeIndex : public Napi::ObjectWrap<NativeIndex> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeIndex",
        {
            StaticMethod<&NativeIndex::Create>("create"),
            StaticMethod<&NativeIndex::Deserialize>("deserialize"),
            InstanceAccessor<&NativeIndex::Dimension>("dimension"),
            InstanceAccessor<&NativeIndex::Count>("count"),
            InstanceAccessor<&NativeIndex::RemovedCount>("removedCount"),
            InstanceAccessor<&NativeIndex::IsTrained>("isTrained"),
            InstanceAccessor<&NativeIndex::IsHnsw>("isHnsw"),
            InstanceAccessor<&NativeIndex::IsIvf>("isIvf"),
            InstanceMethod<&NativeIndex::Add>("add"),
            InstanceMethod<&NativeIndex::Train>("train"),
            InstanceMethod<&NativeIndex::Search>("search"),
            InstanceMethod<&NativeIndex::Remove>("remove"),
            InstanceMethod<&NativeIndex::Reconstruct>("reconstruct"),
            InstanceMethod<&NativeIndex::Labels>("labels"),
            InstanceMethod<&NativeIndex::Serialize>("serialize"),
            InstanceMethod<&NativeIndex::Dispose>("dispose"),
        });
  }

  // Only CreateJob constructs instances, passing the shared index as an External.
  explicit NativeIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeIndex>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "use NativeIndex.create() or deserialize()");
    }
    shared_ = *info[0].As<Napi::External<std::shared_ptr<SharedIndex>>>().Data();
  }

 private:
  static Napi::FunctionReference* Constructor(Napi::Env env) {
    return env.GetInstanceData<Napi::FunctionReference>();
  }

  // create({ dimension, description, metric: 'inner_product' | 'l2', threads, efConstruction })
  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    auto options = info[0].As<Napi::Object>();
    auto shared = std::make_shared<SharedIndex>();
    shared->dimension = options.Get("dimension").ToNumber().Int32Value();
    shared->threads = options.Get("threads").ToNumber().Int32Value();
    if (shared->dimension <= 0) throw Napi::RangeError::New(env, "dimension must be positive");
    auto* job = new CreateJob(env, shared, Constructor(env));
    job->description = options.Get("description").ToString().Utf8Value();
    std::string metric = options.Get("metric").ToString().Utf8Value();
    job->metric = metric == "l2" ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    job->efConstruction = options.Get("efConstruction").ToNumber().Int32Value();
    return job->Start();
  }

  // deserialize(bytes: Uint8Array, threads: number)
  static Napi::Value Deserialize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "bytes must be a Uint8Array");
    auto array = info[0].As<Napi::Uint8Array>();
    auto shared = std::make_shared<SharedIndex>();
    shared->threads = info[1].ToNumber().Int32Value();
    auto* job = new CreateJob(env, shared, Constructor(env));
    job->fromBytes = true;
    job->bytes.assign(array.Data(), array.Data() + array.ByteLength());
    return job->Start();
  }

  Napi::Value Dimension(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), shared_->dimension);
  }
  Napi::Value Count(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(shared_->count.load()));
  }
  Napi::Value RemovedCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(shared_->removedCount.load()));
  }
  Napi::Value IsTrained(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), shared_->trained.load());
  }
  Napi::Value IsHnsw(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), shared_->hnsw);
  }
  Napi::Value IsIvf(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), shared_->ivf);
  }

  void CheckRows(Napi::Env env, size_t floats, const char* name) {
    if (floats == 0 || floats % shared_->dimension != 0) {
      throw Napi::RangeError::New(
          env, std::string(name) + " length must be a positive multiple of the dimension");
    }
  }

  // add(vectors: Float32Array, labels: Float64Array)
  Napi::Value Add(const Napi::CallbackInfo& info) {
    auto vectors = CopyFloats(info[0], "vectors");
    auto labels = CopyLabels(info[1], "labels");
    CheckRows(info.Env(), vectors.size(), "vectors");
    if (vectors.size() / shared_->dimension != labels.size()) {
      throw Napi::RangeError::New(info.Env(), "labels must have one entry per vector");
    }
    return (new AddJob(info.Env(), shared_, std::move(vectors), std::move(labels)))->Start();
  }

  // train(vectors: Float32Array)
  Napi::Value Train(const Napi::CallbackInfo& info) {
    auto vectors = CopyFloats(info[0], "vectors");
    CheckRows(info.Env(), vectors.size(), "vectors");
    return (new TrainJob(info.Env(), shared_, std::move(vectors)))->Start();
  }

  // search(queries: Float32Array, k: number, efSearch: number, nprobe: number)
  Napi::Value Search(const Napi::CallbackInfo& info) {
    auto queries = CopyFloats(info[0], "queries");
    CheckRows(info.Env(), queries.size(), "queries");
    auto k = static_cast<idx_t>(info[1].ToNumber().Int64Value());
    if (k <= 0) throw Napi::RangeError::New(info.Env(), "k must be positive");
    int efSearch = info[2].ToNumber().Int32Value();
    int nprobe = info[3].ToNumber().Int32Value();
    return (new SearchJob(info.Env(), shared_, std::move(queries), k, efSearch, nprobe))->Start();
  }

  // remove(labels: Float64Array): Promise<number of vectors removed>
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    return (new RemoveJob(info.Env(), shared_, CopyLabels(info[0], "labels")))->Start();
  }

  // reconstruct(labels: Float64Array): Promise<Float32Array>
  Napi::Value Reconstruct(const Napi::CallbackInfo& info) {
    return (new ReconstructJob(info.Env(), shared_, CopyLabels(info[0], "labels")))->Start();
  }

  // labels(): Promise<Float64Array> of every live label
  Napi::Value Labels(const Napi::CallbackInfo& info) {
    return (new LabelsJob(info.Env(), shared_))->Start();
  }

  Napi::Value Serialize(const Napi::CallbackInfo& info) {
    return (new SerializeJob(info.Env(), shared_))->Start();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    return (new DisposeJob(info.Env(), shared_))->Start();
  }

  std::shared_ptr<SharedIndex> shared_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // FAISS hands flat searches of this many queries or more to sgemm and scans vector by vector
  // below it (default 20). Batches below kGemvMaxQueries never reach FAISS's flat search, and
  // from there on one sgemm serves the whole batch, so the threshold is 1.
  faiss::distance_compute_blas_threshold = 1;
  // OpenBLAS spreads each product over every core by default. On 2 busy cores that cost 70 ms of
  // CPU per 50k x 384 query against 22 ms with one thread, and p50 latency rose fivefold, so it
  // gets one thread unless OPENBLAS_NUM_THREADS says otherwise.
  if (openblas_set_num_threads != nullptr && std::getenv("OPENBLAS_NUM_THREADS") == nullptr) {
    openblas_set_num_threads(1);
  }
  Napi::Function ctor = NativeIndex::Define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("NativeIndex", ctor);
  exports.Set("addonVersion", Napi::Number::New(env, kAddonVersion));
  exports.Set("faissVersion", Napi::String::New(env, std::to_string(FAISS_VERSION_MAJOR) + "." +
                                                        std::to_string(FAISS_VERSION_MINOR) + "." +
                                                        std::to_string(FAISS_VERSION_PATCH)));
  return exports;
}

}  // namespace

NODE_API_MODULE(streamcluster_faiss, Init)
