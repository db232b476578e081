// Optional C++ time loops of the LSTM and GRU kernels (rnnkit/kernels/_extension.py builds and loads them).
//
// Each op takes exactly the arguments of its PyTorch twin in _lstm_loops.py / _gru_loops.py and fills the
// same preallocated buffers; everything outside the time loop (the input GEMM before it, the weight GEMMs
// after it) stays in Python. Per step: the recurrent GEMM through ATen (MKL), then one fused pass over the
// (B, H) cells instead of a dozen separate tensor ops. Equation numbers: docs/derivations/{lstm,gru,masking}.md.
// Buffers are (T, B, width) and contiguous in (B, width) unless a stride is passed.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

using at::Tensor;
using OptTensor = std::optional<Tensor>;

namespace {

template <typename T> inline T sigmoid(T a) { return T(1) / (T(1) + std::exp(-a)); }

template <typename T> inline T* ptr(const OptTensor& x) { return x && x->defined() ? x->data_ptr<T>() : nullptr; }

// step n of the scan is time t = order(n); the state before it is S[t + offset], after it S[t + 1 - offset]
struct Steps {
  int64_t T;
  bool reverse;
  int64_t order(int64_t n) const { return reverse ? T - 1 - n : n; }
  int64_t offset() const { return reverse ? 1 : 0; }
};

// rows b of a batch in parallel, each chunk big enough to be worth a thread
template <typename F> inline void rows(int64_t B, int64_t width, const F& f) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1));
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

// layer norm statistics of one row: mean and 1 / sqrt(var + eps)
template <typename T> inline void row_stats(const T* z, int64_t N, T& mean, T& rstd) {
  double s = 0, ss = 0;
  for (int64_t j = 0; j < N; ++j) s += z[j];
  const double mu = s / N;
  for (int64_t j = 0; j < N; ++j) ss += (z[j] - mu) * (z[j] - mu);
  mean = T(mu);
  rstd = T(1.0 / std::sqrt(ss / N + 1e-5));
}

// (L) dz = rstd (dẑ - mean(dẑ) - ẑ mean(dẑ ẑ)), dẑ = γ dy, ẑ = (z - mean) rstd
template <typename T>
inline void row_layer_norm_backward(T* dz, const T* dy, const T* z, T mean, T rstd, const T* gamma, int64_t N) {
  double m1 = 0, m2 = 0;
  for (int64_t j = 0; j < N; ++j) {
    const double dzh = gamma[j] * dy[j], zh = (z[j] - mean) * rstd;
    m1 += dzh;
    m2 += dzh * zh;
  }
  const T a = T(m1 / N), c = T(m2 / N);
  for (int64_t j = 0; j < N; ++j) dz[j] = rstd * (gamma[j] * dy[j] - a - (z[j] - mean) * rstd * c);
}

// ------------------------------------------------------------------------------------------------- LSTM
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
  const Tensor W_hh_t = W_hh.t(), W_hr_t = proj ? W_hr->t() : Tensor();
  Tensor h_rec = q ? at::empty({B, P}, hs.options()) : Tensor();
  Tensor h_new = mu_h ? at::empty({B, P}, hs.options()) : Tensor();
  for (int64_t n = 0; n < T_; ++n) {
    const int64_t t = s.order(n), prev = t + s.offset(), next = t + 1 - s.offset();
    Tensor h_prev = hs.select(0, prev), h_next = hs.select(0, next), g_t = gates.select(0, t);
    Tensor h_in = h_prev;
    if (q) {  // h̃ = q ⊙ h_{t-1}
      T *hr = h_rec.data_ptr<T>(), *hp = h_prev.data_ptr<T>(), *qq = ptr<T>(q);
      for (int64_t k = 0; k < B * P; ++k) hr[k] = qq[k] * hp[k];
      h_in = h_rec;
    }
    T* g = g_t.data_ptr<T>();
    if (ln) {  // (L1) + LN(W_hh h̃; γ_hh)
      Tensor z_t = z_hh->select(0, t);
      at::mm_out(z_t, h_in, W_hh_t);
      const T *z = z_t.data_ptr<T>(), *gamma = ptr<T>(ln_hh_w);
      T *mean = ptr<T>(hh_mean) + t * B, *rstd = ptr<T>(hh_rstd) + t * B;
      rows(B, G, [&](int64_t b) {
        row_stats(z + b * G, G, mean[b], rstd[b]);
        for (int64_t j = 0; j < G; ++j) g[b * G + j] += gamma[j] * (z[b * G + j] - mean[b]) * rstd[b];
      });
    } else {
      g_t.addmm_(h_in, W_hh_t);  // (0) + W_hh h̃
    }
    T* h_out = (mu_h ? h_new : h_next).data_ptr<T>();  // h': the state itself, or a buffer to blend from
    const T* cp_all = cs.select(0, prev).data_ptr<T>();
    T *cn_all = c_new.select(0, t).data_ptr<T>(), *tc_all = tc.select(0, t).data_ptr<T>();
    T* m_all = proj ? m->select(0, t).data_ptr<T>() : h_out;
    with_flag(ln_c, [&](auto LN_C) {
      rows(B, G, [&](int64_t b) {
        T *const gb = g + b * G, *const cn = cn_all + b * H, *const th = tc_all + b * H, *const mo = m_all + b * H;
        const T *const cp = cp_all + b * H, *const ci = wci, *const cf = wcf, *const co = wco;
        const T c_max = C;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T i = sigmoid(gb[j] + ci[j] * cp[j]);                      // (1)
          const T f = sigmoid(gb[H + j] + cf[j] * cp[j]);                  // (2)
          const T gg = std::tanh(gb[2 * H + j]);                           // (3)
          const T c = std::min(std::max(f * cp[j] + i * gg, -c_max), c_max);  // (4), (4')
          const T o = sigmoid(gb[3 * H + j] + co[j] * c);                  // (5)
          gb[j] = i, gb[H + j] = f, gb[2 * H + j] = gg, gb[3 * H + j] = o, cn[j] = c;
          if constexpr (!decltype(LN_C)::value) {
            const T tanh_c = std::tanh(c);                                 // (6)
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
            const T tanh_c = std::tanh(gamma[j] * (cn[j] - mn) * rs + beta[j]);
            th[j] = tanh_c, mo[j] = gb[3 * H + j] * tanh_c;
          }
        }
      });
    });
    if (proj) {  // (7) h' = W_hr m
      Tensor out = mu_h ? h_new : h_next;
      at::mm_out(out, m->select(0, t), W_hr_t);
    }
    if (mu_h) blend(h_next.data_ptr<T>(), h_prev.data_ptr<T>(), h_new.data_ptr<T>(), ptr<T>(mu_h), t, B, P);  // (M)
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
  Tensor dh_t = dh.add(dy.select(0, s.order(T_ - 1)));  // (Y); gradient of the state after the step
  Tensor dc_t = dc.clone();
  Tensor dh_new_buf = mu_h ? at::empty({B, P}, dh.options()) : Tensor();
  Tensor dm_buf = proj ? at::empty({B, H}, dh.options()) : Tensor();
  Tensor dtc_buf = ln_c ? at::empty({B, H}, dh.options()) : Tensor();
  Tensor dh_in = at::empty({B, P}, dh.options());
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
      at::mm_out(dm_buf, dh_new, *W_hr);
      dm = dm_buf;
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
      T *dzp = dz.data_ptr<T>();
      const T *z = ptr<T>(z_hh) + t * B * G, *mean = ptr<T>(hh_mean) + t * B, *rstd = ptr<T>(hh_rstd) + t * B;
      rows(B, G, [&](int64_t b) {
        row_layer_norm_backward(dzp + b * G, da_t + b * G, z + b * G, mean[b], rstd[b], ptr<T>(ln_hh_w), G);
      });
    }
    at::mm_out(dh_in, dz, W_hh);  // (0) dh̃ = W_hh^T dz
    T *const dht = dh_t.data_ptr<T>();
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

// ------------------------------------------------------------------------------------------------- GRU
template <typename T>
void gru_forward(Tensor gates, Tensor hs, Tensor hidden, Tensor W_hh, OptTensor b_hh, OptTensor mu, OptTensor q,
                 bool reset_after, bool reverse) {
  const int64_t T_ = gates.size(0), B = gates.size(1), H = hs.size(2), G = 3 * H;
  const Steps s{T_, reverse};
  const Tensor W_hh_t = W_hh.t(), W_rz_t = W_hh.narrow(0, 0, 2 * H).t(), W_n_t = W_hh.narrow(0, 2 * H, H).t();
  Tensor h_rec = q ? at::empty({B, H}, hs.options()) : Tensor();
  Tensor h_new = mu ? at::empty({B, H}, hs.options()) : Tensor();
  Tensor rz = reset_after ? Tensor() : at::empty({B, 2 * H}, hs.options());
  Tensor wn = reset_after ? Tensor() : at::empty({B, H}, hs.options());
  const int64_t hid_w = hidden.size(2);  // 3H (3a: W_hh h̃ + b_hh) or H (3b: r ⊙ h̃)
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
      Tensor hid_t = hidden.select(0, t);
      if (b_hh) at::addmm_out(hid_t, *b_hh, h_in, W_hh_t); else at::mm_out(hid_t, h_in, W_hh_t);  // W_hh h̃ + b_hh
      rows(B, G, [&](int64_t b) {
        T *gb = g + b * G, *u = hid + b * hid_w, *ho = h_out + b * H;
        const T* hpb = hp + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = sigmoid(gb[j] + u[j]);                         // (1)
          const T z = sigmoid(gb[H + j] + u[H + j]);                 // (2)
          const T nn = std::tanh(gb[2 * H + j] + r * u[2 * H + j]);  // (3a)
          gb[j] = r, gb[H + j] = z, gb[2 * H + j] = nn;
          ho[j] = nn + z * (hpb[j] - nn);                            // (4)
        }
      });
    } else {
      at::mm_out(rz, h_in, W_rz_t);  // W_h{r,z} h̃
      const T* rzp = rz.data_ptr<T>();
      rows(B, G, [&](int64_t b) {
        T *gb = g + b * G, *v = hid + b * H;
        const T *a = rzp + b * 2 * H, *hib = hi + b * H;
#pragma omp simd
        for (int64_t j = 0; j < 2 * H; ++j) gb[j] = sigmoid(gb[j] + a[j]);  // (1), (2)
        for (int64_t j = 0; j < H; ++j) v[j] = gb[j] * hib[j];              // r ⊙ h̃
      });
      at::mm_out(wn, hidden.select(0, t), W_n_t);  // W_hn (r ⊙ h̃)
      const T* wnp = wn.data_ptr<T>();
      rows(B, G, [&](int64_t b) {
        T *gb = g + b * G, *ho = h_out + b * H;
        const T *a = wnp + b * H, *hpb = hp + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T nn = std::tanh(gb[2 * H + j] + a[j]);  // (3b)
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
  const Tensor W_rz = W_hh.narrow(0, 0, 2 * H), W_n = W_hh.narrow(0, 2 * H, H);
  Tensor dh_t = dh.add(dy.select(0, s.order(T_ - 1)));  // (Y)
  Tensor dh_new_buf = mu ? at::empty({B, H}, dh.options()) : Tensor();
  Tensor dh_in = at::empty({B, H}, dh.options());
  const Tensor zeros_H = at::zeros({B, H}, dh.options()), ones_H = at::ones({B, H}, dh.options());
  const T* qq = ptr<T>(q);
  const int64_t hid_row = hidden.stride(1);  // u is a (B, H) slice of (B, 3H) rows for (3a)
  for (int64_t n = T_ - 1; n >= 0; --n) {
    const int64_t t = s.order(n), prev = t + s.offset();
    Tensor dh_new = dh_t;
    if (mu) {  // (M)
      scale(dh_new_buf.data_ptr<T>(), dh_t.data_ptr<T>(), ptr<T>(mu), t, B, H);
      dh_new = dh_new_buf;
    }
    const T *gt = gates.select(0, t).data_ptr<T>(), *hp_all = hs.select(0, prev).data_ptr<T>();
    const T *hid = hidden.select(0, t).data_ptr<T>(), *dhn = dh_new.data_ptr<T>();
    Tensor da_t = da.select(0, t), dhid_t = dhid.select(0, t);
    T *dap = da_t.data_ptr<T>(), *dhidp = dhid_t.data_ptr<T>();
    with_flag(reset_after, [&](auto RESET_AFTER) {
      rows(B, G, [&](int64_t b) {
        const T *const g = gt + b * G, *const hp = hp_all + b * H, *const u = hid + b * hid_row, *const d = dhn + b * H;
        T *const dab = dap + b * G, *const du = dhidp + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = g[j], z = g[H + j], nn = g[2 * H + j];
          const T da_n = d[j] * (T(1) - z) * (T(1) - nn * nn);        // (4), (3)
          dab[H + j] = d[j] * (hp[j] - nn) * z * (T(1) - z);          // (4), (2) da_z
          dab[2 * H + j] = da_n;
          if constexpr (decltype(RESET_AFTER)::value) du[j] = da_n * r, dab[j] = da_n * u[j] * r * (T(1) - r);  // (3a), (1)
        }
      });
    });
    if (!reset_after) {  // (3b) dv = W_hn^T da_n, then da_r = dv ⊙ h̃ ⊙ σ'(r)
      at::mm_out(dhid_t, da_t.narrow(1, 2 * H, H), W_n);
      rows(B, G, [&](int64_t b) {
        const T *g = gt + b * G, *hp = hp_all + b * H, *dv = dhidp + b * H;
        T* dab = dap + b * G;
        for (int64_t j = 0; j < H; ++j) dab[j] = dv[j] * (qq ? qq[b * H + j] * hp[j] : hp[j]) * g[j] * (T(1) - g[j]);
      });
    }
    at::mm_out(dh_in, da_t.narrow(1, 0, 2 * H), W_rz);  // (1), (2) W_h{r,z}^T [da_r; da_z]
    if (reset_after) dh_in.addmm_(dhid_t, W_n);          // (3a) W_hn^T du
    T *const dht = dh_t.data_ptr<T>();
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

// ------------------------------------------------------------------------------------------------- ops
void lstm_forward_loop(Tensor gates, Tensor hs, Tensor cs, Tensor c_new, Tensor tc, OptTensor m, OptTensor z_hh,
                       OptTensor hh_mean, OptTensor hh_rstd, OptTensor c_mean, OptTensor c_rstd, Tensor W_hh,
                       OptTensor W_hr, OptTensor w_ci, OptTensor w_cf, OptTensor w_co, OptTensor ln_hh_w,
                       OptTensor ln_c_w, OptTensor ln_c_b, OptTensor mu_h, OptTensor mu_c, OptTensor q,
                       std::optional<double> clip, bool reverse) {
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
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_backward_loop", [&] {
    lstm_backward<scalar_t>(dy, dh, dc, da, dz_hh, dh_new_all, dc_hat, gates, cs, c_new, tc, z_hh, hh_mean, hh_rstd,
                            c_mean, c_rstd, W_hh, W_hr, w_ci, w_cf, w_co, ln_hh_w, ln_c_w, mu_h, mu_c, q, clip, reverse);
  });
}

void gru_forward_loop(Tensor gates, Tensor hs, Tensor hidden, Tensor W_hh, OptTensor b_hh, OptTensor mu, OptTensor q,
                      bool reset_after, bool reverse) {
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "gru_forward_loop", [&] {
    gru_forward<scalar_t>(gates, hs, hidden, W_hh, b_hh, mu, q, reset_after, reverse);
  });
}

void gru_backward_loop(Tensor dy, Tensor dh, Tensor da, Tensor dhid, Tensor gates, Tensor hs, Tensor hidden,
                       Tensor W_hh, OptTensor mu, OptTensor q, bool reset_after, bool reverse) {
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "gru_backward_loop", [&] {
    gru_backward<scalar_t>(dy, dh, da, dhid, gates, hs, hidden, W_hh, mu, q, reset_after, reverse);
  });
}

}  // namespace

TORCH_LIBRARY(rnnkit, m) {
  m.def("lstm_forward_loop", &lstm_forward_loop);
  m.def("lstm_backward_loop", &lstm_backward_loop);
  m.def("gru_forward_loop", &gru_forward_loop);
  m.def("gru_backward_loop", &gru_backward_loop);
}
