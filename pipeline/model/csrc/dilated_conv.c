/* The network's 32 -> 32 channel dilated convolution (valid, stride 1) on position-major rows.
 *
 * out[i, p, :] = bias + sum_{t < k, c < 32} x[i, p + t * d, c] * w[t, c, :]   (then ReLU, or added to out)
 *
 * x and out are rows of 32 channels, one row per position (the engine's channels-last
 * (batch, 32, 1, L) tensors), float32 or bfloat16; w is packed (k, 32 in, 32 out), in bfloat16
 * (k, 16 input pairs, 32 out, 2). Register-blocked: a tile of positions x 32 output channels is
 * held in vector registers; per tap and input channel, the two
 * weight vectors are loaded once and each position's input value is broadcast into one fused
 * multiply-add per output vector. Each output is stored once, with its bias, ReLU or residual add.
 * Work is handed out in ranges of positions to POSIX threads (the engine's thread count).
 * AVX-512 and AVX2 + FMA versions (float32) and an AVX512_BF16 one (bfloat16 in and out, float32
 * accumulation) are compiled here with target attributes and chosen at run time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define CH 32          /* channels in and out */
#define CHUNK 448      /* positions per unit of work handed to a thread */
#define MAX_THREADS 256

enum { STORE = 0, STORE_RELU = 1, ADD = 2 };
enum { ISA_NONE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AVX512_BF16 = 3 };

typedef struct {
    const void *x, *w;  /* float32, or bfloat16 (raw 16-bit) where `bf16` */
    const float *bias;
    void *out;
    long items, in_len, out_len, x_item, out_item;
    int k, d, mode, isa, bf16;
} conv_t;

/* ---- AVX-512: 14 positions x 2 vectors of 16 output channels = 28 accumulators ---- */

#define T512 __attribute__((target("avx512f"), always_inline)) static inline

T512 void tile512(const conv_t *a, const float *x, float *out, const int P) {
    __m512 acc[14][2];
    const __m512 b0 = _mm512_loadu_ps(a->bias), b1 = _mm512_loadu_ps(a->bias + 16);
#pragma GCC unroll 14
    for (int j = 0; j < P; j++) { acc[j][0] = b0; acc[j][1] = b1; }
    for (int t = 0; t < a->k; t++) {
        const float *xt = x + (long)t * a->d * CH, *wt = (const float *)a->w + (long)t * CH * CH;
        for (int c = 0; c < CH; c++) {
            const __m512 w0 = _mm512_loadu_ps(wt + c * CH), w1 = _mm512_loadu_ps(wt + c * CH + 16);
#pragma GCC unroll 14
            for (int j = 0; j < P; j++) {
                const __m512 v = _mm512_set1_ps(xt[j * CH + c]);
                acc[j][0] = _mm512_fmadd_ps(v, w0, acc[j][0]);
                acc[j][1] = _mm512_fmadd_ps(v, w1, acc[j][1]);
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 14
    for (int j = 0; j < P; j++) {
        for (int h = 0; h < 2; h++) {
            float *o = out + j * CH + 16 * h;
            __m512 v = acc[j][h];
            if (a->mode == STORE_RELU) v = _mm512_max_ps(v, zero);
            else if (a->mode == ADD) v = _mm512_add_ps(_mm512_loadu_ps(o), v);
            _mm512_storeu_ps(o, v);
        }
    }
}

__attribute__((target("avx512f"))) static void tile512_14(const conv_t *a, const float *x, float *o) { tile512(a, x, o, 14); }
__attribute__((target("avx512f"))) static void tile512_4(const conv_t *a, const float *x, float *o) { tile512(a, x, o, 4); }
__attribute__((target("avx512f"))) static void tile512_1(const conv_t *a, const float *x, float *o) { tile512(a, x, o, 1); }

/* ---- AVX2 + FMA: 16 registers; per half of the output channels, 6 positions x 2 vectors of 8 ---- */

#define T256 __attribute__((target("avx2,fma"), always_inline)) static inline

T256 void tile256(const conv_t *a, const float *x, float *out, const int P, const int half) {
    __m256 acc[6][2];
    const float *bias = a->bias + 16 * half;
    const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 6
    for (int j = 0; j < P; j++) { acc[j][0] = b0; acc[j][1] = b1; }
    for (int t = 0; t < a->k; t++) {
        const float *xt = x + (long)t * a->d * CH, *wt = (const float *)a->w + (long)t * CH * CH + 16 * half;
        for (int c = 0; c < CH; c++) {
            const __m256 w0 = _mm256_loadu_ps(wt + c * CH), w1 = _mm256_loadu_ps(wt + c * CH + 8);
#pragma GCC unroll 6
            for (int j = 0; j < P; j++) {
                const __m256 v = _mm256_broadcast_ss(xt + j * CH + c);
                acc[j][0] = _mm256_fmadd_ps(v, w0, acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(v, w1, acc[j][1]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int j = 0; j < P; j++) {
        for (int h = 0; h < 2; h++) {
            float *o = out + j * CH + 16 * half + 8 * h;
            __m256 v = acc[j][h];
            if (a->mode == STORE_RELU) v = _mm256_max_ps(v, zero);
            else if (a->mode == ADD) v = _mm256_add_ps(_mm256_loadu_ps(o), v);
            _mm256_storeu_ps(o, v);
        }
    }
}

__attribute__((target("avx2,fma"))) static void tile256_6(const conv_t *a, const float *x, float *o) {
    tile256(a, x, o, 6, 0); tile256(a, x, o, 6, 1);
}
__attribute__((target("avx2,fma"))) static void tile256_1(const conv_t *a, const float *x, float *o) {
    tile256(a, x, o, 1, 0); tile256(a, x, o, 1, 1);
}

/* ---- AVX512_BF16: the same tile; per tap and pair of input channels, one dot product of bfloat16
   pairs per output vector (weights packed (k, 16 pairs, 32 out, 2)), float32 accumulation, one
   rounding to bfloat16 (nearest even) at the store ---- */

#define TBF16 __attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline)) static inline

TBF16 __m512 load_bf16(const uint16_t *p) {  /* 16 bfloat16 -> float32 (exact) */
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

TBF16 void tile_bf16(const conv_t *a, const uint16_t *x, uint16_t *out, const int P) {
    __m512 acc[14][2];
    const __m512 b0 = _mm512_loadu_ps(a->bias), b1 = _mm512_loadu_ps(a->bias + 16);
#pragma GCC unroll 14
    for (int j = 0; j < P; j++) { acc[j][0] = b0; acc[j][1] = b1; }
    for (int t = 0; t < a->k; t++) {
        const uint16_t *xt = x + (long)t * a->d * CH, *wt = (const uint16_t *)a->w + (long)t * CH * CH;
        for (int c = 0; c < CH; c += 2) {
            const __m512bh w0 = (__m512bh)_mm512_loadu_si512(wt + c * CH), w1 = (__m512bh)_mm512_loadu_si512(wt + c * CH + 32);
#pragma GCC unroll 14
            for (int j = 0; j < P; j++) {
                int32_t pair;
                __builtin_memcpy(&pair, xt + j * CH + c, sizeof pair);
                const __m512bh v = (__m512bh)_mm512_set1_epi32(pair);
                acc[j][0] = _mm512_dpbf16_ps(acc[j][0], v, w0);
                acc[j][1] = _mm512_dpbf16_ps(acc[j][1], v, w1);
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 14
    for (int j = 0; j < P; j++) {
        for (int h = 0; h < 2; h++) {
            uint16_t *o = out + j * CH + 16 * h;
            __m512 v = acc[j][h];
            if (a->mode == STORE_RELU) v = _mm512_max_ps(v, zero);
            else if (a->mode == ADD) v = _mm512_add_ps(load_bf16(o), v);
            _mm256_storeu_si256((__m256i *)o, (__m256i)_mm512_cvtneps_pbh(v));
        }
    }
}

#define BF16_TILE(P) __attribute__((target("avx512f,avx512bw,avx512bf16"))) static void tile_bf16_##P( \
    const conv_t *a, const uint16_t *x, uint16_t *o) { tile_bf16(a, x, o, P); }
BF16_TILE(14)
BF16_TILE(4)
BF16_TILE(1)

/* positions [lo, hi) of one item: full tiles, then the remainder in smaller ones */
static void run_range(const conv_t *a, long item, long lo, long hi) {
    long p = lo;
    if (a->bf16) {
        const uint16_t *x = (const uint16_t *)a->x + item * a->x_item;
        uint16_t *out = (uint16_t *)a->out + item * a->out_item;
        for (; p + 14 <= hi; p += 14) tile_bf16_14(a, x + p * CH, out + p * CH);
        for (; p + 4 <= hi; p += 4) tile_bf16_4(a, x + p * CH, out + p * CH);
        for (; p < hi; p++) tile_bf16_1(a, x + p * CH, out + p * CH);
        return;
    }
    const float *x = (const float *)a->x + item * a->x_item;
    float *out = (float *)a->out + item * a->out_item;
    if (a->isa >= ISA_AVX512) {
        for (; p + 14 <= hi; p += 14) tile512_14(a, x + p * CH, out + p * CH);
        for (; p + 4 <= hi; p += 4) tile512_4(a, x + p * CH, out + p * CH);
        for (; p < hi; p++) tile512_1(a, x + p * CH, out + p * CH);
    } else {
        for (; p + 6 <= hi; p += 6) tile256_6(a, x + p * CH, out + p * CH);
        for (; p < hi; p++) tile256_1(a, x + p * CH, out + p * CH);
    }
}

typedef struct {
    const conv_t *a;
    long units, next;  /* unit u: item u / chunks, chunk u % chunks; `next` is taken atomically */
} work_t;

/* Each thread takes the next unit until none is left: a thread that the OS runs late (a busy core)
   simply takes fewer, instead of holding up the others at the end. */
static void *run_units(void *arg) {
    work_t *work = arg;
    const conv_t *a = work->a;
    const long chunks = (a->out_len + CHUNK - 1) / CHUNK;
    for (long u; (u = __atomic_fetch_add(&work->next, 1, __ATOMIC_RELAXED)) < work->units;) {
        const long item = u / chunks, lo = (u % chunks) * CHUNK;
        run_range(a, item, lo, lo + CHUNK < a->out_len ? lo + CHUNK : a->out_len);
    }
    return NULL;
}

static void run_parallel(const conv_t *a, int threads) {
    work_t work = {a, a->items * ((a->out_len + CHUNK - 1) / CHUNK), 0};
    if (threads > work.units) threads = (int)work.units;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    pthread_t ids[MAX_THREADS];
    int started = 1;
    for (; started < threads; started++) {
        if (pthread_create(&ids[started], NULL, run_units, &work) != 0) break;  /* the others do its share */
    }
    run_units(&work);
    for (int n = 1; n < started; n++) pthread_join(ids[n], NULL);
}

static int best_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16"))
        return ISA_AVX512_BF16;
    if (__builtin_cpu_supports("avx512f")) return ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
    return ISA_NONE;
}

/* conv(x, x_item, items, in_len, w, bias, k, d, out, out_item, mode, isa, threads, bf16): addresses as integers,
   strides in elements; bf16: x, w and out are bfloat16 (needs ISA_AVX512_BF16), the bias float32 */
static PyObject *py_conv(PyObject *self, PyObject *args) {
    unsigned long long x, w, bias, out;
    conv_t a;
    int threads;
    if (!PyArg_ParseTuple(args, "KlllKKiiKliiip", &x, &a.x_item, &a.items, &a.in_len, &w, &bias, &a.k, &a.d,
                          &out, &a.out_item, &a.mode, &a.isa, &threads, &a.bf16))
        return NULL;
    a.x = (const void *)(uintptr_t)x;
    a.w = (const void *)(uintptr_t)w;
    a.bias = (const float *)(uintptr_t)bias;
    a.out = (void *)(uintptr_t)out;
    a.out_len = a.in_len - (long)(a.k - 1) * a.d;
    if (a.k < 1 || a.d < 1 || a.out_len < 0 || a.items < 0 || a.mode < STORE || a.mode > ADD) {
        PyErr_SetString(PyExc_ValueError, "dilated_conv: bad shape or mode");
        return NULL;
    }
    if (a.isa > best_isa() || a.isa == ISA_NONE || (a.bf16 && a.isa < ISA_AVX512_BF16)) {
        PyErr_SetString(PyExc_ValueError, "dilated_conv: this CPU lacks the requested instruction set");
        return NULL;
    }
    if (a.out_len > 0 && a.items > 0) {
        Py_BEGIN_ALLOW_THREADS
        run_parallel(&a, threads);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

/* ---- the machine's fused multiply-add peak: independent FMA chains in registers, per thread ---- */

typedef struct { long iterations; int isa; double sink; } peak_t;

__attribute__((target("avx512f"))) static double fma_loop512(long n) {
    __m512 acc[12];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < 12; j++) acc[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < 12; j++) acc[j] = _mm512_fmadd_ps(acc[j], m, c);
    }
    float s = 0;
    for (int j = 0; j < 12; j++) s += _mm512_reduce_add_ps(acc[j]);
    return s;
}

__attribute__((target("avx2,fma"))) static double fma_loop256(long n) {
    __m256 acc[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < 12; j++) acc[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, c);
    }
    float lanes[8], s = 0;
    for (int j = 0; j < 12; j++) {
        _mm256_storeu_ps(lanes, acc[j]);
        for (int l = 0; l < 8; l++) s += lanes[l];
    }
    return s;
}

static void *run_peak(void *arg) {
    peak_t *p = arg;
    p->sink = p->isa >= ISA_AVX512 ? fma_loop512(p->iterations) : fma_loop256(p->iterations);
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* fma_peak(iterations, isa, threads) -> (seconds, threads that ran) for `iterations` x 12 vector FMAs each */
static PyObject *py_fma_peak(PyObject *self, PyObject *args) {
    long iterations;
    int isa, threads;
    if (!PyArg_ParseTuple(args, "lii", &iterations, &isa, &threads)) return NULL;
    if (isa > best_isa() || isa == ISA_NONE || threads < 1 || threads > MAX_THREADS) {
        PyErr_SetString(PyExc_ValueError, "fma_peak: bad instruction set or thread count");
        return NULL;
    }
    peak_t runs[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    double seconds;
    int started = 1;
    Py_BEGIN_ALLOW_THREADS
    const double start = now();
    for (int n = 0; n < threads; n++) runs[n] = (peak_t){iterations, isa, 0};
    for (; started < threads; started++) {
        if (pthread_create(&ids[started], NULL, run_peak, &runs[started]) != 0) break;
    }
    run_peak(&runs[0]);
    for (int n = 1; n < started; n++) pthread_join(ids[n], NULL);
    seconds = now() - start;
    Py_END_ALLOW_THREADS
    return Py_BuildValue("di", seconds, started);
}

static PyObject *py_best_isa(PyObject *self, PyObject *noargs) { return PyLong_FromLong(best_isa()); }

static PyMethodDef methods[] = {
    {"conv", py_conv, METH_VARARGS, "The 32-channel dilated convolution on position-major float32 rows."},
    {"fma_peak", py_fma_peak, METH_VARARGS, "Seconds for threads x iterations x 12 independent vector FMAs."},
    {"best_isa", py_best_isa, METH_NOARGS, "0: none, 1: AVX2 + FMA, 2: AVX-512, 3: AVX-512 with AVX512_BF16."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_dilated_conv", NULL, -1, methods};

PyMODINIT_FUNC PyInit__dilated_conv(void) { return PyModule_Create(&module); }
