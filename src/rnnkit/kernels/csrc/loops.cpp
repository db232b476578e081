// Optional C++ time loops of the LSTM and GRU kernels (rnnkit/kernels/_extension.py builds and loads them).
//
// Each op takes exactly the arguments of its PyTorch twin in _lstm_loops.py / _gru_loops.py and fills the
// same preallocated buffers; everything outside the time loop (the input GEMM before it, the weight GEMMs
// after it) stays in Python. Per step: the recurrent GEMM (Linear in common.h: oneDNN or BLAS), then one fused
// pass over the (B, H) cells instead of a dozen separate tensor ops. Equation numbers:
// docs/derivations/{lstm,gru,masking}.md. Buffers are (T, B, width), contiguous (checked below).
//
//   common.h   Linear (the per-step GEMM), rows (row-parallel loops), blend (M), layer-norm rows (L)
//   lstm.h     lstm_forward / lstm_backward          gru.h   gru_forward / gru_backward
//   loops.cpp  layer_norm_grads, the ops' argument checks and their registration as torch.ops.rnnkit.*
#include "common.h"
#include "gru.h"
#include "lstm.h"

namespace rnnkit {

// ------------------------------------------------------------------------------------------------- layer norm
// (L) over all rows of (..., N) at once: dz (optional), dγ = Σ dy ⊙ ẑ, dβ = Σ dy (optional); ẑ recomputed
template <typename T>
void layer_norm_grads_impl(const Tensor& dy, const Tensor& z, const Tensor& mean, const Tensor& rstd,
                           const Tensor& gamma, Tensor& dz, Tensor& dgamma, Tensor& dbeta) {
  const int64_t N = z.size(-1), R = z.numel() / N;
  const T *dyp = dy.data_ptr<T>(), *zp = z.data_ptr<T>(), *mp = mean.data_ptr<T>(), *rp = rstd.data_ptr<T>();
  const T* g = gamma.data_ptr<T>();
  T* dzp = dz.defined() ? dz.data_ptr<T>() : nullptr;
  std::vector<double> dg(N, 0.0), db(dbeta.defined() ? N : 0, 0.0);
  const bool need_db = dbeta.defined();
  std::mutex merge;
  at::parallel_for(0, R, std::max<int64_t>(1, 16384 / N), [&](int64_t r0, int64_t r1) {
    std::vector<T> dg_local(N, T(0)), db_local(N, T(0));  // per-chunk partial sums, merged in double
    T *const dgl = dg_local.data(), *const dbl = db_local.data();
    for (int64_t r = r0; r < r1; ++r) {
      const T *const y = dyp + r * N, *const zz = zp + r * N;
      const T mn = mp[r], rs = rp[r];
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) dgl[j] += y[j] * (zz[j] - mn) * rs, dbl[j] += y[j];
      if (dzp) row_layer_norm_backward(dzp + r * N, y, zz, mn, rs, g, N);
    }
    std::lock_guard<std::mutex> lock(merge);
    for (int64_t j = 0; j < N; ++j) dg[j] += dgl[j];
    if (need_db) for (int64_t j = 0; j < N; ++j) db[j] += dbl[j];
  });
  T *dgp = dgamma.data_ptr<T>(), *dbp = dbeta.defined() ? dbeta.data_ptr<T>() : nullptr;
  for (int64_t j = 0; j < N; ++j) dgp[j] = T(dg[j]);
  if (dbp) for (int64_t j = 0; j < N; ++j) dbp[j] = T(db[j]);
}

// ------------------------------------------------------------------------------------------------- ops
// every buffer a loop walks with pointers must be contiguous (the Python side makes them so)
inline void check_contiguous(std::initializer_list<std::pair<const char*, OptTensor>> tensors) {
  for (const auto& [name, tensor] : tensors)
    TORCH_CHECK(!tensor || !tensor->defined() || tensor->is_contiguous(), "rnnkit loops: ", name, " must be contiguous");
}

void lstm_forward_loop(Tensor gates, Tensor hs, Tensor cs, Tensor c_new, Tensor tc, OptTensor m, OptTensor z_hh,
                       OptTensor hh_mean, OptTensor hh_rstd, OptTensor c_mean, OptTensor c_rstd, Tensor W_hh,
                       OptTensor W_hr, OptTensor w_ci, OptTensor w_cf, OptTensor w_co, OptTensor ln_hh_w,
                       OptTensor ln_c_w, OptTensor ln_c_b, OptTensor mu_h, OptTensor mu_c, OptTensor q,
                       std::optional<double> clip, bool reverse) {
  check_contiguous({{"gates", gates}, {"hs", hs}, {"cs", cs}, {"c_new", c_new}, {"tc", tc}, {"m", m}, {"z_hh", z_hh},
                    {"hh_mean", hh_mean}, {"hh_rstd", hh_rstd}, {"c_mean", c_mean}, {"c_rstd", c_rstd}, {"w_ci", w_ci},
                    {"w_cf", w_cf}, {"w_co", w_co}, {"ln_hh_w", ln_hh_w}, {"ln_c_w", ln_c_w}, {"ln_c_b", ln_c_b},
                    {"mu_h", mu_h}, {"mu_c", mu_c}, {"q", q}});
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_forward_loop", [&] {
    lstm_forward<scalar_t>(gates, hs, cs, c_new, tc, m, z_hh, hh_mean, hh_rstd, c_mean, c_rstd, W_hh, W_hr, w_ci, w_cf,
                           w_co, ln_hh_w, ln_c_w, ln_c_b, mu_h, mu_c, q, clip, reverse);
  });
}

void lstm_backward_loop(Tensor dy, Tensor dh, Tensor dc, Tensor da, OptTensor dz_hh, OptTensor dh_new_all,
                        OptTensor dc_hat, Tensor gates, Tensor cs, Tensor c_new, Tensor tc, OptTensor z_hh,
                        OptTensor hh_mean, OptTensor hh_rstd, OptTensor c_mean, OptTensor c_rstd, Tensor W_hh,
                        OptTensor W_hr, OptTensor w_ci, OptTensor w_cf, OptTensor w_co, OptTensor ln_hh_w,
                        OptTensor ln_c_w, OptTensor mu_h, OptTensor mu_c, OptTensor q, std::optional<double> clip,
                        bool reverse) {
  check_contiguous({{"dy", dy}, {"dh", dh}, {"dc", dc}, {"da", da}, {"dz_hh", dz_hh}, {"dh_new_all", dh_new_all},
                    {"dc_hat", dc_hat}, {"gates", gates}, {"cs", cs}, {"c_new", c_new}, {"tc", tc}, {"z_hh", z_hh},
                    {"hh_mean", hh_mean}, {"hh_rstd", hh_rstd}, {"c_mean", c_mean}, {"c_rstd", c_rstd}, {"w_ci", w_ci},
                    {"w_cf", w_cf}, {"w_co", w_co}, {"ln_hh_w", ln_hh_w}, {"ln_c_w", ln_c_w}, {"mu_h", mu_h},
                    {"mu_c", mu_c}, {"q", q}});
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_backward_loop", [&] {
    lstm_backward<scalar_t>(dy, dh, dc, da, dz_hh, dh_new_all, dc_hat, gates, cs, c_new, tc, z_hh, hh_mean, hh_rstd,
                            c_mean, c_rstd, W_hh, W_hr, w_ci, w_cf, w_co, ln_hh_w, ln_c_w, mu_h, mu_c, q, clip, reverse);
  });
}

void gru_forward_loop(Tensor gates, Tensor hs, Tensor hidden, Tensor W_hh, OptTensor b_hh, OptTensor mu, OptTensor q,
                      bool reset_after, bool reverse) {
  check_contiguous({{"gates", gates}, {"hs", hs}, {"hidden", hidden}, {"mu", mu}, {"q", q}});
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "gru_forward_loop", [&] {
    gru_forward<scalar_t>(gates, hs, hidden, W_hh, b_hh, mu, q, reset_after, reverse);
  });
}

void gru_backward_loop(Tensor dy, Tensor dh, Tensor da, Tensor dhid, Tensor gates, Tensor hs, Tensor hidden,
                       Tensor W_hh, OptTensor mu, OptTensor q, bool reset_after, bool reverse) {
  TORCH_CHECK(hidden.stride(2) == 1 && hidden.stride(0) == hidden.size(1) * hidden.stride(1), "rnnkit loops: hidden rows");
  check_contiguous({{"dy", dy}, {"dh", dh}, {"da", da}, {"dhid", dhid}, {"gates", gates}, {"hs", hs}, {"mu", mu}, {"q", q}});
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "gru_backward_loop", [&] {
    gru_backward<scalar_t>(dy, dh, da, dhid, gates, hs, hidden, W_hh, mu, q, reset_after, reverse);
  });
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_grads(Tensor dy, Tensor z, Tensor mean, Tensor rstd, Tensor gamma,
                                                    bool need_dz, bool need_dbias) {
  dy = dy.contiguous();
  z = z.contiguous();
  const int64_t N = z.size(-1);
  Tensor dz = need_dz ? at::empty(z.sizes(), z.options()) : Tensor();
  Tensor dgamma = at::empty({N}, z.options()), dbeta = need_dbias ? at::empty({N}, z.options()) : Tensor();
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "layer_norm_grads", [&] {
    layer_norm_grads_impl<scalar_t>(dy, z, mean.contiguous(), rstd.contiguous(), gamma.contiguous(), dz, dgamma, dbeta);
  });
  return {dz, dgamma, dbeta};
}

}  // namespace rnnkit

TORCH_LIBRARY(rnnkit, m) {
  m.def("layer_norm_grads", &rnnkit::layer_norm_grads);
  m.def("lstm_forward_loop", &rnnkit::lstm_forward_loop);
  m.def("lstm_backward_loop", &rnnkit::lstm_backward_loop);
  m.def("gru_forward_loop", &rnnkit::gru_forward_loop);
  m.def("gru_backward_loop", &rnnkit::gru_backward_loop);
}
