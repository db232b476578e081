// The GRU's time loops, both forms: the C++ twins of forward_loop / backward_loop in ../_gru_loops.py
// (docs/derivations/gru.md).
#pragma once

#include "common.h"

namespace rnnkit {

template <typename T>
void gru_forward(Tensor gates, Tensor hs, Tensor hidden, Tensor W_hh, OptTensor b_hh, OptTensor mu, OptTensor q,
                 bool reset_after, bool reverse) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = hs.size(2), G = 3 * H;
  const Steps s{T_, reverse};
  const std::optional<Linear<T>> all = reset_after ? std::optional<Linear<T>>(Linear<T>(W_hh, B, b_hh)) : std::nullopt;
  const std::optional<Linear<T>> rz = reset_after ? std::nullopt : std::optional<Linear<T>>(Linear<T>(W_hh.narrow(0, 0, 2 * H), B));
  const std::optional<Linear<T>> wn = reset_after ? std::nullopt : std::optional<Linear<T>>(Linear<T>(W_hh.narrow(0, 2 * H, H), B));
  Tensor h_rec = q ? at::empty({B, H}, hs.options()) : Tensor();
  Tensor h_new = mu ? at::empty({B, H}, hs.options()) : Tensor();
  for (int64_t n = 0; n < T_; ++n) {
    const int64_t t = s.order(n), prev = t + s.offset(), next = t + 1 - s.offset();
    Tensor h_prev = hs.select(0, prev), h_next = hs.select(0, next);
    Tensor h_in = h_prev;
    if (q) {  // h̃ = q ⊙ h_{t-1}
      T *hr = h_rec.data_ptr<T>(), *hp = h_prev.data_ptr<T>(), *qq = ptr<T>(q);
      for (int64_t k = 0; k < B * H; ++k) hr[k] = qq[k] * hp[k];
      h_in = h_rec;
    }
    T* g = gates.select(0, t).data_ptr<T>();
    T* hid = hidden.select(0, t).data_ptr<T>();
    const T* hp = h_prev.data_ptr<T>();
    const T* hi = h_in.data_ptr<T>();
    T* h_out = (mu ? h_new : h_next).data_ptr<T>();
    if (reset_after) {
      const Tensor u_t = (*all)(h_in);  // (B, 3H) W_hh h̃ + b_hh
      const T* up = u_t.data_ptr<T>();
      rows(B, G, [&](int64_t b) {
        T *const gb = g + b * G, *const u = hid + b * G, *const ho = h_out + b * H;
        const T *const ub = up + b * G, *const hpb = hp + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = sigmoid(gb[j] + ub[j]);                          // (1)
          const T z = sigmoid(gb[H + j] + ub[H + j]);                  // (2)
          const T nn = tanh_(gb[2 * H + j] + r * ub[2 * H + j]);   // (3a)
          gb[j] = r, gb[H + j] = z, gb[2 * H + j] = nn;
          u[j] = ub[j], u[H + j] = ub[H + j], u[2 * H + j] = ub[2 * H + j];
          ho[j] = nn + z * (hpb[j] - nn);                              // (4)
        }
      });
    } else {
      const Tensor a_rz = (*rz)(h_in);  // (B, 2H) W_h{r,z} h̃
      const T* rzp = a_rz.data_ptr<T>();
      rows(B, G, [&](int64_t b) {
        T *const gb = g + b * G, *const v = hid + b * H;
        const T *const a = rzp + b * 2 * H, *const hib = hi + b * H;
#pragma omp simd
        for (int64_t j = 0; j < 2 * H; ++j) gb[j] = sigmoid(gb[j] + a[j]);  // (1), (2)
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) v[j] = gb[j] * hib[j];              // r ⊙ h̃
      });
      const Tensor a_n = (*wn)(hidden.select(0, t));  // (B, H) W_hn (r ⊙ h̃)
      const T* wnp = a_n.data_ptr<T>();
      rows(B, G, [&](int64_t b) {
        T *const gb = g + b * G, *const ho = h_out + b * H;
        const T *const a = wnp + b * H, *const hpb = hp + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T nn = tanh_(gb[2 * H + j] + a[j]);  // (3b)
          gb[2 * H + j] = nn;
          ho[j] = nn + gb[H + j] * (hpb[j] - nn);        // (4)
        }
      });
    }
    if (mu) blend(h_next.data_ptr<T>(), hp, h_new.data_ptr<T>(), ptr<T>(mu), t, B, H);  // (M)
  }
}

template <typename T>
void gru_backward(Tensor dy, Tensor dh, Tensor da, Tensor dhid, Tensor gates, Tensor hs, Tensor hidden, Tensor W_hh,
                  OptTensor mu, OptTensor q, bool reset_after, bool reverse) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = hs.size(2), G = 3 * H;
  const Steps s{T_, reverse};
  // (3a): one GEMM W_hh^T [da_r; da_z; du]; (3b): W_hn^T da_n, then W_h{r,z}^T [da_r; da_z]
  const std::optional<Linear<T>> all = reset_after ? std::optional<Linear<T>>(Linear<T>(W_hh.t(), B)) : std::nullopt;
  const std::optional<Linear<T>> rz = reset_after ? std::nullopt : std::optional<Linear<T>>(Linear<T>(W_hh.narrow(0, 0, 2 * H).t(), B));
  const std::optional<Linear<T>> wn = reset_after ? std::nullopt : std::optional<Linear<T>>(Linear<T>(W_hh.narrow(0, 2 * H, H).t(), B));
  Tensor dh_t = dh.add(dy.select(0, s.order(T_ - 1)));  // (Y)
  Tensor dh_new_buf = mu ? at::empty({B, H}, dh.options()) : Tensor();
  Tensor scratch = at::empty({B, reset_after ? G : 2 * H}, dh.options());  // contiguous GEMM input
  Tensor da_n = reset_after ? Tensor() : at::empty({B, H}, dh.options());
  const Tensor zeros_H = at::zeros({B, H}, dh.options()), ones_H = at::ones({B, H}, dh.options());
  const T* qq = ptr<T>(q);
  const int64_t hid_row = hidden.stride(1);  // u is a (B, H) slice of (B, 3H) rows for (3a)
  T* const sc = scratch.data_ptr<T>();
  for (int64_t n = T_ - 1; n >= 0; --n) {
    const int64_t t = s.order(n), prev = t + s.offset();
    Tensor dh_new = dh_t;
    if (mu) {  // (M)
      scale(dh_new_buf.data_ptr<T>(), dh_t.data_ptr<T>(), ptr<T>(mu), t, B, H);
      dh_new = dh_new_buf;
    }
    const T *gt = gates.select(0, t).data_ptr<T>(), *hp_all = hs.select(0, prev).data_ptr<T>();
    const T *hid = hidden.select(0, t).data_ptr<T>(), *dhn = dh_new.data_ptr<T>();
    T *dap = da.select(0, t).data_ptr<T>(), *dhidp = dhid.select(0, t).data_ptr<T>();
    T* const dan = reset_after ? nullptr : da_n.data_ptr<T>();
    with_flag(reset_after, [&](auto RESET_AFTER) {
      rows(B, G, [&](int64_t b) {
        const T *const g = gt + b * G, *const hp = hp_all + b * H, *const u = hid + b * hid_row, *const d = dhn + b * H;
        T *const dab = dap + b * G, *const du = dhidp + b * H, *const scb = sc + b * (RESET_AFTER ? G : 2 * H);
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = g[j], z = g[H + j], nn = g[2 * H + j];
          const T dan_j = d[j] * (T(1) - z) * (T(1) - nn * nn);         // (4), (3)
          const T daz_j = d[j] * (hp[j] - nn) * z * (T(1) - z);         // (4), (2)
          dab[H + j] = daz_j, dab[2 * H + j] = dan_j, scb[H + j] = daz_j;
          if constexpr (decltype(RESET_AFTER)::value) {                 // (3a), (1)
            const T dar_j = dan_j * u[j] * r * (T(1) - r);
            du[j] = dan_j * r, dab[j] = dar_j, scb[j] = dar_j, scb[2 * H + j] = dan_j * r;
          } else {
            dan[b * H + j] = dan_j;
          }
        }
      });
    });
    Tensor dh_in;
    if (reset_after) {
      dh_in = (*all)(scratch);  // (1), (2), (3a) W_hh^T [da_r; da_z; du]
    } else {  // (3b) dv = W_hn^T da_n, then da_r = dv ⊙ h̃ ⊙ σ'(r)
      const Tensor dv = (*wn)(da_n);
      const T* dvp = dv.data_ptr<T>();
      rows(B, G, [&](int64_t b) {
        const T *const g = gt + b * G, *const hp = hp_all + b * H, *const dvb = dvp + b * H;
        const T* const qb = qq ? qq + b * H : ones_H.data_ptr<T>() + b * H;
        T *const dab = dap + b * G, *const scb = sc + b * 2 * H, *const dvc = dhidp + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T dar_j = dvb[j] * qb[j] * hp[j] * g[j] * (T(1) - g[j]);
          dab[j] = dar_j, scb[j] = dar_j, dvc[j] = dvb[j];
        }
      });
      dh_in = (*rz)(scratch);  // (1), (2) W_h{r,z}^T [da_r; da_z]
    }
    T* const dht = dh_t.data_ptr<T>();
    const T *const dhi = dh_in.data_ptr<T>(), *const dv = dhidp;
    const T* const dyb = n > 0 ? dy.select(0, s.order(n - 1)).data_ptr<T>() : zeros_H.data_ptr<T>();
    const T* const qk = qq ? qq : ones_H.data_ptr<T>();
    const T keep = mu ? T(1) : T(0), cho = reset_after ? T(0) : T(1);
    rows(B, G, [&](int64_t b) {
      const T* const g = gt + b * G;
      const int64_t o = b * H;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const T dhr = dhi[o + j] + cho * dv[o + j] * g[j];                            // (3b) r ⊙ dv
        dht[o + j] = qk[o + j] * dhr + g[H + j] * dhn[o + j]                          // h̃ = q ⊙ h, (4) z ⊙ h_{t-1}
                     + keep * (dht[o + j] - dhn[o + j]) + dyb[o + j];                 // (M), (Y) of the step before
      }
    });
  }
  dh.copy_(dh_t);
}

}  // namespace rnnkit
