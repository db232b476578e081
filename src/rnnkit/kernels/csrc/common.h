// Shared by the C++ time loops: the per-step GEMM (Linear), row-parallel helpers, masking (M), layer-norm rows.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <torch/library.h>

#include <dlfcn.h>

#include <initializer_list>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <cmath>
#include <limits>
#include <mutex>
#include <tuple>
#include <vector>
#include <optional>
#include <type_traits>

using at::Tensor;
using OptTensor = std::optional<Tensor>;

namespace rnnkit {


// The loops are built with -ffast-math, which lets the compiler assume no infinities: exp(-a) must
// not overflow, or 1 / (1 + inf) may come out NaN. Past |a| = 80 the sigmoid is 0 or 1 to within
// 2e-35, below the resolution of float and double alike, so clamping there changes no result.
template <typename T> inline T sigmoid(T a) {
  const T bounded = std::min(std::max(a, T(-80)), T(80));
  return T(1) / (T(1) + std::exp(-bounded));
}
// tanh(a) = ±1 to within 1e-69 past |a| = 80; clamped for the same reason (glibc's vector tanh).
template <typename T> inline T tanh_(T a) { return std::tanh(std::min(std::max(a, T(-80)), T(80))); }

template <typename T> inline T* ptr(const OptTensor& x) { return x && x->defined() ? x->data_ptr<T>() : nullptr; }

// step n of the scan is time t = order(n); the state before it is S[t + offset], after it S[t + 1 - offset]
struct Steps {
  int64_t T;
  bool reverse;
  int64_t order(int64_t n) const { return reverse ? T - 1 - n : n; }
  int64_t offset() const { return reverse ? 1 : 0; }
};

// rows b of a batch, in parallel where each thread gets enough work to pay for waking it (~32k elements)
template <typename F> inline void rows(int64_t B, int64_t width, const F& f) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(width, 1));
  if (B <= grain || at::get_num_threads() == 1) {
    for (int64_t b = 0; b < B; ++b) f(b);
    return;
  }
  at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) f(b);
  });
}

// f(flag) with the flag a compile-time constant, so that the vectorised inner loops carry no branch
template <typename F> inline void with_flag(bool flag, const F& f) {
  if (flag) f(std::true_type{}); else f(std::false_type{});
}

// (M) s_t = μ ⊙ s' + (1 - μ) ⊙ s_{t-1}; μ is (T, B, W) (Python expands a (T, B, 1) mask)
template <typename T> void blend(T* out, const T* prev, const T* fresh, const T* mu, int64_t t, int64_t B, int64_t W) {
  rows(B, W, [&](int64_t b) {
    const T *m = mu + (t * B + b) * W, *p = prev + b * W, *f = fresh + b * W;
    T* o = out + b * W;
#pragma omp simd
    for (int64_t j = 0; j < W; ++j) o[j] = p[j] + m[j] * (f[j] - p[j]);
  });
}

// x ⊙ μ_t over (B, W)
template <typename T> void scale(T* out, const T* x, const T* mu, int64_t t, int64_t B, int64_t W) {
  const T* m = mu + t * B * W;
#pragma omp simd
  for (int64_t k = 0; k < B * W; ++k) out[k] = m[k] * x[k];
}

// y = x W^T (+ b) for the per-step GEMMs, into a buffer reused from step to step. Backends, measured on 2 AMD
// cores: oneDNN's matmul with W packed once per call wins once both sides of W are >= 256 (MKL's sgemm takes a
// generic path on AMD CPUs); below that the BLAS gemm called directly (no dispatch, no allocation) wins; ATen's
// mm where neither is available (float64 uses the BLAS dgemm). RNNKIT_GEMM=onednn|blas|aten overrides.
using gemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const void*, const void*,
                         const int*, const void*, const int*, const void*, void*, const int*);

template <typename T> gemm_fn blas_gemm() {  // sgemm_ / dgemm_ from the BLAS torch links, if it exports one
  static const gemm_fn fn = reinterpret_cast<gemm_fn>(dlsym(RTLD_DEFAULT, std::is_same_v<T, float> ? "sgemm_" : "dgemm_"));
  return fn;
}

template <typename T> class Linear {
 public:
  Linear(const Tensor& weight, int64_t batch, OptTensor bias = std::nullopt) : bias_(std::move(bias)) {
    static const std::string choice = std::getenv("RNNKIT_GEMM") ? std::getenv("RNNKIT_GEMM") : "auto";
    const int64_t out = weight.size(0), in = weight.size(1);
    const bool big = std::min(out, in) >= 256;
    if (std::is_same_v<T, float> && dnnl_ops() && (choice == "onednn" || (choice == "auto" && big))) {
      backend_ = ONEDNN;
      c10::Stack stack{weight.contiguous(), c10::IValue(batch)};
      dnnl_ops()->second.callBoxed(stack);  // mkldnn::_reorder_linear_weight
      weight_ = stack[0].toTensor();
    } else {
      backend_ = blas_gemm<T>() && choice != "aten" ? BLAS : ATEN;
      weight_ = weight.contiguous();
      out_ = at::empty({batch, out}, weight.options());
    }
  }

  Tensor operator()(const Tensor& x) const {
    if (backend_ == ONEDNN) {
      c10::Stack stack{x.contiguous(), weight_, bias_ ? c10::IValue(*bias_) : c10::IValue(), c10::IValue("none"),
                       c10::IValue(c10::List<std::optional<c10::Scalar>>()), c10::IValue("")};
      dnnl_ops()->first.callBoxed(stack);  // mkldnn::_linear_pointwise
      return stack[0].toTensor();
    }
    if (backend_ == ATEN) {
      if (bias_) at::addmm_out(out_, *bias_, x, weight_.t()); else at::mm_out(out_, x, weight_.t());
      return out_;
    }
    // column-major view of row-major y (M, N) = x (M, K) W^T: y^T = W^T-as-stored (N x K, "T") times x^T (K x M)
    const Tensor xc = x.stride(1) == 1 ? x : x.contiguous();
    const int m = int(weight_.size(0)), n = int(xc.size(0)), k = int(weight_.size(1));
    const int lda = k, ldb = int(xc.stride(0)), ldc = int(out_.stride(0));
    const T one = 1, beta = bias_ ? 1 : 0;
    if (bias_) out_.copy_(bias_->expand_as(out_));
    blas_gemm<T>()("T", "N", &m, &n, &k, &one, weight_.data_ptr<T>(), &lda, xc.data_ptr<T>(), &ldb, &beta,
                   out_.data_ptr<T>(), &ldc);
    return out_;
  }

 private:
  enum Backend { ONEDNN, BLAS, ATEN };
  using Ops = std::pair<c10::OperatorHandle, c10::OperatorHandle>;
  static const Ops* dnnl_ops() {  // (linear, reorder), or nullptr where torch has no oneDNN
    static const std::optional<Ops> ops = []() -> std::optional<Ops> {
      auto& dispatcher = c10::Dispatcher::singleton();
      auto linear = dispatcher.findSchema({"mkldnn::_linear_pointwise", ""});
      auto reorder = dispatcher.findSchema({"mkldnn::_reorder_linear_weight", ""});
      if (!linear || !reorder) return std::nullopt;
      return Ops{*linear, *reorder};
    }();
    return ops && at::globalContext().userEnabledMkldnn() ? &*ops : nullptr;
  }
  Backend backend_ = ATEN;
  Tensor weight_;
  mutable Tensor out_;  // reused by every call: a result is consumed before the next step
  OptTensor bias_;
};

// layer norm statistics of one row: mean and 1 / sqrt(var + eps) (two passes, vectorised reductions)
template <typename T> inline void row_stats(const T* z, int64_t N, T& mean, T& rstd) {
  T s = 0, ss = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < N; ++j) s += z[j];
  const T mu = s / T(N);
#pragma omp simd reduction(+ : ss)
  for (int64_t j = 0; j < N; ++j) ss += (z[j] - mu) * (z[j] - mu);
  mean = mu;
  rstd = T(1) / std::sqrt(ss / T(N) + T(1e-5));
}

// (L) dz = rstd (dẑ - mean(dẑ) - ẑ mean(dẑ ẑ)), dẑ = γ dy, ẑ = (z - mean) rstd
template <typename T>
inline void row_layer_norm_backward(T* dz, const T* dy, const T* z, T mean, T rstd, const T* gamma, int64_t N) {
  T m1 = 0, m2 = 0;
#pragma omp simd reduction(+ : m1, m2)
  for (int64_t j = 0; j < N; ++j) {
    const T dzh = gamma[j] * dy[j];
    m1 += dzh;
    m2 += dzh * (z[j] - mean) * rstd;
  }
  const T a = m1 / T(N), c = m2 / T(N);
#pragma omp simd
  for (int64_t j = 0; j < N; ++j) dz[j] = rstd * (gamma[j] * dy[j] - a - (z[j] - mean) * rstd * c);
}

}  // namespace rnnkit
