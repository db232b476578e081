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

// The LSTM loops take their many tensors in three groups, the fields of the named tuples of _lstm_loops.py
// (ForwardBuffers, BackwardBuffers, Masks) and of LSTMParams (rnnkit/_types.py), in the order of these enums.
enum ForwardBuffer { GATES, HS, CS, C_NEW, TC, M, Z_HH, HH_MEAN, HH_RSTD, C_MEAN, C_RSTD, N_FORWARD_BUFFERS };
enum BackwardBuffer { DY, DH, DC, DA, DZ_HH, DH_NEW_ALL, DC_HAT, N_BACKWARD_BUFFERS };
enum Param { W_IH, W_HH, B_IH, B_HH, W_CI, W_CF, W_CO, W_HR, LN_IH_W, LN_HH_W, LN_C_W, LN_C_B, N_PARAMS };
enum Mask { MU_H, MU_C, Q, N_MASKS };
using Tensors = c10::List<OptTensor>;

// the loops walk buffers, masks and the weight vectors (peepholes, layer-norm gains) with pointers; the
// matrices go to the GEMM, which takes any strides
inline void check_group(const Tensors& group, size_t size, const char* name) {
  TORCH_CHECK(group.size() == size, "rnnkit loops: ", name, " must hold ", size, " tensors, got ", group.size());
  for (size_t k = 0; k < group.size(); ++k) {
    const OptTensor tensor = group.get(k);
    const bool walked = tensor && tensor->defined() && (tensor->dim() != 2 || std::string(name) != "weights");
    TORCH_CHECK(!walked || tensor->is_contiguous(), "rnnkit loops: ", name, "[", k, "] must be contiguous");
  }
}

inline OptTensor opt(const Tensors& group, int k) { return group.get(k); }

inline Tensor need(const Tensors& group, int k, const char* name) {
  const OptTensor tensor = group.get(k);
  TORCH_CHECK(tensor && tensor->defined(), "rnnkit loops: ", name, " is required");
  return *tensor;
}

void lstm_forward_loop(const Tensors& buffers, const Tensors& p, const Tensors& masks, std::optional<double> clip,
                       bool reverse) {
  check_group(buffers, N_FORWARD_BUFFERS, "buffers");
  check_group(p, N_PARAMS, "weights");
  check_group(masks, N_MASKS, "masks");
  const Tensor gates = need(buffers, GATES, "gates");
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_forward_loop", [&] {
    lstm_forward<scalar_t>(gates, need(buffers, HS, "hs"), need(buffers, CS, "cs"), need(buffers, C_NEW, "c_new"),
                           need(buffers, TC, "tc"), opt(buffers, M), opt(buffers, Z_HH), opt(buffers, HH_MEAN),
                           opt(buffers, HH_RSTD), opt(buffers, C_MEAN), opt(buffers, C_RSTD), need(p, W_HH, "weight_hh"),
                           opt(p, W_HR), opt(p, W_CI), opt(p, W_CF), opt(p, W_CO), opt(p, LN_HH_W), opt(p, LN_C_W),
                           opt(p, LN_C_B), opt(masks, MU_H), opt(masks, MU_C), opt(masks, Q), clip, reverse);
  });
}

void lstm_backward_loop(const Tensors& grads, const Tensors& buffers, const Tensors& p, const Tensors& masks,
                        std::optional<double> clip, bool reverse) {
  check_group(grads, N_BACKWARD_BUFFERS, "grads");
  check_group(buffers, N_FORWARD_BUFFERS, "buffers");
  check_group(p, N_PARAMS, "weights");
  check_group(masks, N_MASKS, "masks");
  const Tensor gates = need(buffers, GATES, "gates");
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_backward_loop", [&] {
    lstm_backward<scalar_t>(need(grads, DY, "dy"), need(grads, DH, "dh"), need(grads, DC, "dc"), need(grads, DA, "da"),
                            opt(grads, DZ_HH), opt(grads, DH_NEW_ALL), opt(grads, DC_HAT), gates,
                            need(buffers, CS, "cs"), need(buffers, C_NEW, "c_new"), need(buffers, TC, "tc"),
                            opt(buffers, Z_HH), opt(buffers, HH_MEAN), opt(buffers, HH_RSTD), opt(buffers, C_MEAN),
                            opt(buffers, C_RSTD), need(p, W_HH, "weight_hh"), opt(p, W_HR), opt(p, W_CI), opt(p, W_CF),
                            opt(p, W_CO), opt(p, LN_HH_W), opt(p, LN_C_W), opt(masks, MU_H), opt(masks, MU_C),
                            opt(masks, Q), clip, reverse);
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

// Schemas written out: (a!) marks what an op writes into, so that torch.compile's functionalisation and
// torch.library's checks know. The kernels are CPU code, registered for the CPU key; the fake (shape-only)
// versions for tracing are registered in _extension.py.
TORCH_LIBRARY_FRAGMENT(rnnkit, m) {
  m.def("layer_norm_grads(Tensor dy, Tensor z, Tensor mean, Tensor rstd, Tensor gamma, bool need_dz, bool need_dbias) "
        "-> (Tensor, Tensor, Tensor)");
  m.def("lstm_forward_loop(Tensor(a!)?[] buffers, Tensor?[] weights, Tensor?[] masks, float? clip, bool reverse) -> ()");
  m.def("lstm_backward_loop(Tensor(a!)?[] grads, Tensor?[] buffers, Tensor?[] weights, Tensor?[] masks, float? clip, "
        "bool reverse) -> ()");
  m.def("gru_forward_loop(Tensor(a!) gates, Tensor(b!) hs, Tensor(c!) hidden, Tensor W_hh, Tensor? b_hh, Tensor? mu, "
        "Tensor? q, bool reset_after, bool reverse) -> ()");
  m.def("gru_backward_loop(Tensor dy, Tensor(a!) dh, Tensor(b!) da, Tensor(c!) dhid, Tensor gates, Tensor hs, "
        "Tensor hidden, Tensor W_hh, Tensor? mu, Tensor? q, bool reset_after, bool reverse) -> ()");
}

TORCH_LIBRARY_IMPL(rnnkit, CPU, m) {
  m.impl("layer_norm_grads", &rnnkit::layer_norm_grads);
  m.impl("lstm_forward_loop", &rnnkit::lstm_forward_loop);
  m.impl("lstm_backward_loop", &rnnkit::lstm_backward_loop);
  m.impl("gru_forward_loop", &rnnkit::gru_forward_loop);
  m.impl("gru_backward_loop", &rnnkit::gru_backward_loop);
}
