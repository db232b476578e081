// The LSTM's time loops: the C++ twins of forward_loop / backward_loop in ../_lstm_loops.py (docs/derivations/lstm.md).
#pragma once

#include "common.h"

namespace rnnkit {

template <typename T>
void lstm_forward(Tensor gates, Tensor hs, Tensor cs, Tensor c_new, Tensor tc, OptTensor m, OptTensor z_hh,
                  OptTensor hh_mean, OptTensor hh_rstd, OptTensor c_mean, OptTensor c_rstd, Tensor W_hh,
                  OptTensor W_hr, OptTensor w_ci, OptTensor w_cf, OptTensor w_co, OptTensor ln_hh_w, OptTensor ln_c_w,
                  OptTensor ln_c_b, OptTensor mu_h, OptTensor mu_c, OptTensor q, std::optional<double> clip,
                  bool reverse) {
  const int64_t T_ = gates.size(0), B = gates.size(1), G = gates.size(2), H = G / 4, P = hs.size(2);
  const Steps s{T_, reverse};
  const Tensor zeros = at::zeros({H}, gates.options());
  const T* wci = w_ci ? ptr<T>(w_ci) : zeros.data_ptr<T>();
  const T* wcf = w_cf ? ptr<T>(w_cf) : zeros.data_ptr<T>();
  const T* wco = w_co ? ptr<T>(w_co) : zeros.data_ptr<T>();
  const T C = clip ? T(*clip) : std::numeric_limits<T>::max();
  const bool ln = ln_hh_w.has_value(), ln_c = ln_c_w.has_value(), proj = W_hr.has_value();
  const Linear<T> recurrent(W_hh, B);                                            // h̃ -> W_hh h̃
  const std::optional<Linear<T>> projection = proj ? std::optional<Linear<T>>(Linear<T>(*W_hr, B)) : std::nullopt;  // (7)
  Tensor h_rec = q ? at::empty({B, P}, hs.options()) : Tensor();
  for (int64_t n = 0; n < T_; ++n) {
    const int64_t t = s.order(n), prev = t + s.offset(), next = t + 1 - s.offset();
    Tensor h_prev = hs.select(0, prev), h_next = hs.select(0, next);
    Tensor h_in = h_prev;
    if (q) {  // h̃ = q ⊙ h_{t-1}
      T *hr = h_rec.data_ptr<T>(), *hp = h_prev.data_ptr<T>(), *qq = ptr<T>(q);
      for (int64_t k = 0; k < B * P; ++k) hr[k] = qq[k] * hp[k];
      h_in = h_rec;
    }
    const Tensor hw = recurrent(h_in);  // (B, 4H) W_hh h̃
    const T* hwp = hw.data_ptr<T>();
    T* g = gates.select(0, t).data_ptr<T>();
    if (ln) {  // (L1) + LN(W_hh h̃; γ_hh), keeping W_hh h̃ and its statistics for the backward
      T *z = z_hh->select(0, t).data_ptr<T>(), *mean = ptr<T>(hh_mean) + t * B, *rstd = ptr<T>(hh_rstd) + t * B;
      const T* gamma = ptr<T>(ln_hh_w);
      rows(B, G, [&](int64_t b) {
        const T* zb = hwp + b * G;
        row_stats(zb, G, mean[b], rstd[b]);
        const T mn = mean[b], rs = rstd[b];
        T *gb = g + b * G, *zc = z + b * G;
        for (int64_t j = 0; j < G; ++j) zc[j] = zb[j], gb[j] += gamma[j] * (zb[j] - mn) * rs;
      });
    }
    Tensor m_t = proj ? m->select(0, t) : Tensor();
    Tensor h_out = proj ? Tensor() : (mu_h ? at::empty({B, P}, hs.options()) : h_next);  // h' = m without projection
    const T* cp_all = cs.select(0, prev).data_ptr<T>();
    T *cn_all = c_new.select(0, t).data_ptr<T>(), *tc_all = tc.select(0, t).data_ptr<T>();
    T* m_all = proj ? m_t.data_ptr<T>() : h_out.data_ptr<T>();
    with_flag(ln, [&](auto LN) {
      with_flag(ln_c, [&](auto LN_C) {
        rows(B, G, [&](int64_t b) {
          T *const gb = g + b * G, *const cn = cn_all + b * H, *const th = tc_all + b * H, *const mo = m_all + b * H;
          const T *const cp = cp_all + b * H, *const hwb = hwp + b * G, *const ci = wci, *const cf = wcf, *const co = wco;
          const T c_max = C;
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) {
            T ai = gb[j], af = gb[H + j], ag = gb[2 * H + j], ao = gb[3 * H + j];     // (0): W_ih x + b, (L1) included
            if constexpr (!decltype(LN)::value) ai += hwb[j], af += hwb[H + j], ag += hwb[2 * H + j], ao += hwb[3 * H + j];
            const T i = sigmoid(ai + ci[j] * cp[j]);                                 // (1)
            const T f = sigmoid(af + cf[j] * cp[j]);                                 // (2)
            const T gg = tanh_(ag);                                              // (3)
            const T c = std::min(std::max(f * cp[j] + i * gg, -c_max), c_max);      // (4), (4')
            const T o = sigmoid(ao + co[j] * c);                                     // (5)
            gb[j] = i, gb[H + j] = f, gb[2 * H + j] = gg, gb[3 * H + j] = o, cn[j] = c;
            if constexpr (!decltype(LN_C)::value) {
              const T tanh_c = tanh_(c);                                         // (6)
              th[j] = tanh_c, mo[j] = o * tanh_c;
            }
          }
          if constexpr (decltype(LN_C)::value) {  // (L2) ĉ = LN(c'; γ_c, β_c), (6) m = o ⊙ tanh(ĉ)
            const T *const gamma = ptr<T>(ln_c_w), *const beta = ptr<T>(ln_c_b);
            T &mean = ptr<T>(c_mean)[t * B + b], &rstd = ptr<T>(c_rstd)[t * B + b];
            row_stats(cn, H, mean, rstd);
            const T mn = mean, rs = rstd;
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) {
              const T tanh_c = tanh_(gamma[j] * (cn[j] - mn) * rs + beta[j]);
              th[j] = tanh_c, mo[j] = gb[3 * H + j] * tanh_c;
            }
          }
        });
      });
    });
    if (proj) h_out = (*projection)(m_t);  // (7) h' = W_hr m
    if (mu_h) {
      blend(h_next.data_ptr<T>(), h_prev.data_ptr<T>(), h_out.data_ptr<T>(), ptr<T>(mu_h), t, B, P);  // (M)
    } else if (proj) {
      h_next.copy_(h_out);
    }
    if (mu_c) blend(cs.select(0, next).data_ptr<T>(), cp_all, cn_all, ptr<T>(mu_c), t, B, H);  // (M)
  }
}

template <typename T>
void lstm_backward(Tensor dy, Tensor dh, Tensor dc, Tensor da, OptTensor dz_hh, OptTensor dh_new_all, OptTensor dc_hat,
                   Tensor gates, Tensor cs, Tensor c_new, Tensor tc, OptTensor z_hh, OptTensor hh_mean,
                   OptTensor hh_rstd, OptTensor c_mean, OptTensor c_rstd, Tensor W_hh, OptTensor W_hr, OptTensor w_ci,
                   OptTensor w_cf, OptTensor w_co, OptTensor ln_hh_w, OptTensor ln_c_w, OptTensor mu_h,
                   OptTensor mu_c, OptTensor q, std::optional<double> clip, bool reverse) {
  const int64_t T_ = gates.size(0), B = gates.size(1), G = gates.size(2), H = G / 4, P = dh.size(1);
  const Steps s{T_, reverse};
  const Tensor zeros = at::zeros({H}, gates.options());
  const T* wci = w_ci ? ptr<T>(w_ci) : zeros.data_ptr<T>();
  const T* wcf = w_cf ? ptr<T>(w_cf) : zeros.data_ptr<T>();
  const T* wco = w_co ? ptr<T>(w_co) : zeros.data_ptr<T>();
  const T C = clip ? T(*clip) : std::numeric_limits<T>::max();
  const bool ln = ln_hh_w.has_value(), ln_c = ln_c_w.has_value(), proj = W_hr.has_value();
  const Linear<T> recurrent(W_hh.t(), B);                                        // dz -> W_hh^T dz
  const std::optional<Linear<T>> projection = proj ? std::optional<Linear<T>>(Linear<T>(W_hr->t(), B)) : std::nullopt;
  Tensor dh_t = dh.add(dy.select(0, s.order(T_ - 1)));  // (Y); gradient of the state after the step
  Tensor dc_t = dc.clone();
  Tensor dh_new_buf = mu_h ? at::empty({B, P}, dh.options()) : Tensor();
  Tensor dtc_buf = ln_c ? at::empty({B, H}, dh.options()) : Tensor();
  const Tensor zeros_P = at::zeros({B, P}, dh.options()), ones_P = at::ones({B, P}, dh.options());
  const T* qq = ptr<T>(q);
  for (int64_t n = T_ - 1; n >= 0; --n) {
    const int64_t t = s.order(n), prev = t + s.offset();
    Tensor dh_new = dh_t;
    if (mu_h) {  // (M) dh' = μ^h ⊙ dh_t
      scale(dh_new_buf.data_ptr<T>(), dh_t.data_ptr<T>(), ptr<T>(mu_h), t, B, P);
      dh_new = dh_new_buf;
    }
    Tensor dm = dh_new;
    if (proj) {  // (7) dm = W_hr^T dh'
      dh_new_all->select(0, t).copy_(dh_new);
      dm = (*projection)(dh_new);
    }
    const T *gt = gates.select(0, t).data_ptr<T>(), *th_all = tc.select(0, t).data_ptr<T>();
    const T *cn_all = c_new.select(0, t).data_ptr<T>(), *cp_all = cs.select(0, prev).data_ptr<T>();
    const T* dm_all = dm.data_ptr<T>();
    T *da_t = da.select(0, t).data_ptr<T>(), *dct = dc_t.data_ptr<T>();
    const T* muc_all = mu_c ? ptr<T>(mu_c) + t * B * H : nullptr;
    with_flag(ln_c, [&](auto LN_C) {
      with_flag(mu_c.has_value(), [&](auto MU_C) {
        rows(B, G, [&](int64_t b) {
          const T *const g = gt + b * G, *const th = th_all + b * H, *const cn = cn_all + b * H;
          const T *const cp = cp_all + b * H, *const dmb = dm_all + b * H;
          const T *const ci = wci, *const cf = wcf, *const co = wco;
          const T *const muc = MU_C ? muc_all + b * H : nullptr;
          T *const dab = da_t + b * G, *const dcb = dct + b * H;
          T* dtc = nullptr;
          const T c_max = C;
          if constexpr (decltype(LN_C)::value) {  // (6) dĉ, then (L2) back to dc'
            T* dch = ptr<T>(dc_hat) + (t * B + b) * H;
            dtc = dtc_buf.data_ptr<T>() + b * H;
            for (int64_t j = 0; j < H; ++j) dch[j] = dmb[j] * g[3 * H + j] * (T(1) - th[j] * th[j]);
            row_layer_norm_backward(dtc, dch, cn, ptr<T>(c_mean)[t * B + b], ptr<T>(c_rstd)[t * B + b],
                                    ptr<T>(ln_c_w), H);
          }
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) {
            const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
            const T da_o = dmb[j] * th[j] * o * (T(1) - o);                               // (6), (5)
            T mu = T(1);
            if constexpr (decltype(MU_C)::value) mu = muc[j];
            T dcn = mu * dcb[j];                                                          // (M)
            if constexpr (decltype(LN_C)::value) dcn += dtc[j]; else dcn += dmb[j] * o * (T(1) - th[j] * th[j]);  // (6)
            dcn += co[j] * da_o;                                                          // (5)
            dcn = std::abs(cn[j]) < c_max ? dcn : T(0);                                   // (4')
            const T da_i = dcn * gg * i * (T(1) - i);                                     // (4), (1)
            const T da_f = dcn * cp[j] * f * (T(1) - f);                                  // (4), (2)
            const T da_g = dcn * i * (T(1) - gg * gg);                                    // (4), (3)
            dab[j] = da_i, dab[H + j] = da_f, dab[2 * H + j] = da_g, dab[3 * H + j] = da_o;
            dcb[j] = dcn * f + ci[j] * da_i + cf[j] * da_f + (T(1) - mu) * dcb[j];        // (4), (1), (2), (M)
          }
        });
      });
    });
    Tensor dz = da.select(0, t);
    if (ln) {  // (L1) dz_hh = LN backward of da
      dz = dz_hh->select(0, t);
      T* dzp = dz.data_ptr<T>();
      const T *z = ptr<T>(z_hh) + t * B * G, *mean = ptr<T>(hh_mean) + t * B, *rstd = ptr<T>(hh_rstd) + t * B;
      rows(B, G, [&](int64_t b) {
        row_layer_norm_backward(dzp + b * G, da_t + b * G, z + b * G, mean[b], rstd[b], ptr<T>(ln_hh_w), G);
      });
    }
    const Tensor dh_in = recurrent(dz);  // (0) dh̃ = W_hh^T dz
    T* const dht = dh_t.data_ptr<T>();
    const T *const dhn = dh_new.data_ptr<T>(), *const dhi = dh_in.data_ptr<T>();
    const T* const dyb = n > 0 ? dy.select(0, s.order(n - 1)).data_ptr<T>() : zeros_P.data_ptr<T>();
    const T* const qk = qq ? qq : ones_P.data_ptr<T>();
    const T keep = mu_h ? T(1) : T(0);  // (1 - μ) dh_t = dh_t - dh' with zoneout or padding, else 0
#pragma omp simd
    for (int64_t k = 0; k < B * P; ++k) dht[k] = qk[k] * dhi[k] + keep * (dht[k] - dhn[k]) + dyb[k];  // (0), (M), (Y)
  }
  dh.copy_(dh_t);
  dc.copy_(dc_t);
}

}  // namespace rnnkit
