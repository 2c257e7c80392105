/* The plain C reference of `cargo bench --bench noise`: an exhaustive sweep of one built-in
 * approximate multiplier (DRUM(k) or Mitchell, unsigned n-bit) computing every figure of a
 * noise profile the straightforward way: one loop over all pairs, the model called per pair,
 * one division per pair for the relative error, every sum and histogram updated per pair.
 * The bench builds it with the system `cc` and times it side by side with the Rust engine;
 * it also prints its figures so that the two are checked against each other.
 *
 * usage: noise_ref drum K N | noise_ref mitchell N
 * output: one `name value` line per figure (integers exact, floats %.17g).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef __int128 i128;

#define ERR_LOG_BINS 40
#define REL_BINS 200

static int lead(uint32_t x) { return 31 - __builtin_clz(x); }

static uint64_t drum(uint32_t a, uint32_t b, int k) {
    uint64_t ma = a, mb = b;
    int sa = 0, sb = 0;
    if (a >> k) { sa = lead(a) + 1 - k; ma = (a >> sa) | 1; }
    if (b >> k) { sb = lead(b) + 1 - k; mb = (b >> sb) | 1; }
    return (ma * mb) << (sa + sb);
}

static uint64_t mitchell(uint32_t a, uint32_t b, int n) {
    if (a == 0 || b == 0) return 0;
    int k1 = lead(a), k2 = lead(b);
    uint64_t fmask = (1ull << (n - 1)) - 1;
    uint64_t f1 = ((uint64_t)a << (n - 1 - k1)) & fmask;
    uint64_t f2 = ((uint64_t)b << (n - 1 - k2)) & fmask;
    uint64_t s = f1 + f2, half = 1ull << (n - 1);
    uint64_t mant = s < half ? half + s : 2 * s;
    int e = k1 + k2;
    return e >= n - 1 ? mant << (e - (n - 1)) : mant >> ((n - 1) - e);
}

static int bit_len(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

struct cell { uint64_t count, rel_count; i128 sum_err; u128 sum_abs, sum_sq; double sum_abs_rel; };

static void print_u128(const char* name, u128 v) {
    char buf[64]; int i = 63; buf[i] = 0;
    do { buf[--i] = '0' + (int)(v % 10); v /= 10; } while (v);
    printf("%s %s\n", name, buf + i);
}

static void print_i128(const char* name, i128 v) {
    char buf[64]; int i = 63, neg = v < 0; u128 m = neg ? -(u128)v : (u128)v; buf[i] = 0;
    do { buf[--i] = '0' + (int)(m % 10); m /= 10; } while (m);
    if (neg) buf[--i] = '-';
    printf("%s %s\n", name, buf + i);
}

int main(int argc, char** argv) {
    int drum_k = 0, n;
    if (argc == 4 && strcmp(argv[1], "drum") == 0) { drum_k = atoi(argv[2]); n = atoi(argv[3]); }
    else if (argc == 3 && strcmp(argv[1], "mitchell") == 0) { n = atoi(argv[2]); }
    else { fprintf(stderr, "usage: noise_ref drum K N | noise_ref mitchell N\n"); return 2; }
    if (n < 2 || n > 16) { fprintf(stderr, "N must be 2..16\n"); return 2; }
    const uint32_t size = 1u << n;
    uint64_t count = 0, err_count = 0, rel_count = 0, max_abs = 0;
    uint32_t max_abs_a = 0, max_abs_b = 0, max_rel_a = 0, max_rel_b = 0;
    i128 sum_err = 0; u128 sum_abs = 0, sum_sq = 0;
    double sum_rel = 0, sum_abs_rel = 0, sum_sq_rel = 0, max_rel = 0;
    static uint64_t err_hist[2 * ERR_LOG_BINS + 1], rel_hist[REL_BINS + 2];
    static struct cell mag[17][17];
    for (uint32_t a = 0; a < size; a++) {
        for (uint32_t b = 0; b < size; b++) {
            int64_t approx = (int64_t)(drum_k ? drum(a, b, drum_k) : mitchell(a, b, n));
            int64_t exact = (int64_t)a * b;
            int64_t e = approx - exact;
            uint64_t ae = e < 0 ? -(uint64_t)e : (uint64_t)e;
            struct cell* c = &mag[bit_len(a)][bit_len(b)];
            count++; c->count++;
            sum_err += e; c->sum_err += e;
            sum_abs += ae; c->sum_abs += ae;
            sum_sq += (u128)ae * ae; c->sum_sq += (u128)ae * ae;
            err_count += e != 0;
            if (ae > max_abs) { max_abs = ae; max_abs_a = a; max_abs_b = b; }
            int k = bit_len(ae); if (k > ERR_LOG_BINS) k = ERR_LOG_BINS;
            err_hist[e < 0 ? ERR_LOG_BINS - k : ERR_LOG_BINS + k]++;
            if (exact != 0) {
                double r = (double)e / (double)exact, ar = r < 0 ? -r : r;
                rel_count++; c->rel_count++;
                sum_rel += r; sum_abs_rel += ar; sum_sq_rel += r * r; c->sum_abs_rel += ar;
                if (ar > max_rel) { max_rel = ar; max_rel_a = a; max_rel_b = b; }
                /* bin floor(100 e / exact) + 101, clamped; r*100 may round across a bin
                 * edge, integer products (exact > 0 here) put it right */
                int64_t q = (int64_t)floor(r * 100.0), num = 100 * e;
                if (q * exact > num) q--;
                else if ((q + 1) * exact <= num) q++;
                int64_t bin = q + REL_BINS / 2 + 1;
                if (bin < 0) bin = 0;
                if (bin > REL_BINS + 1) bin = REL_BINS + 1;
                rel_hist[bin]++;
            }
        }
    }
    printf("pairs %llu\nerr_count %llu\nrel_count %llu\n", (unsigned long long)count,
           (unsigned long long)err_count, (unsigned long long)rel_count);
    print_i128("sum_err", sum_err);
    print_u128("sum_abs", sum_abs);
    print_u128("sum_sq", sum_sq);
    printf("max_abs %llu %u %u\n", (unsigned long long)max_abs, max_abs_a, max_abs_b);
    printf("max_rel %.17g %u %u\n", max_rel, max_rel_a, max_rel_b);
    printf("sum_rel %.17g\nsum_abs_rel %.17g\nsum_sq_rel %.17g\n", sum_rel, sum_abs_rel, sum_sq_rel);
    for (int i = 0; i < 2 * ERR_LOG_BINS + 1; i++)
        if (err_hist[i]) printf("err_hist %d %llu\n", i - ERR_LOG_BINS, (unsigned long long)err_hist[i]);
    for (int i = 0; i < REL_BINS + 2; i++)
        if (rel_hist[i]) printf("rel_hist %d %llu\n", i, (unsigned long long)rel_hist[i]);
    for (int i = 0; i <= n; i++)
        for (int j = 0; j <= n; j++) {
            struct cell* c = &mag[i][j];
            if (!c->count) continue;
            char name[64];
            printf("mag %d %d count %llu rel_count %llu sum_abs_rel %.17g\n", i, j,
                   (unsigned long long)c->count, (unsigned long long)c->rel_count, c->sum_abs_rel);
            snprintf(name, sizeof name, "mag %d %d sum_err", i, j); print_i128(name, c->sum_err);
            snprintf(name, sizeof name, "mag %d %d sum_abs", i, j); print_u128(name, c->sum_abs);
            snprintf(name, sizeof name, "mag %d %d sum_sq", i, j); print_u128(name, c->sum_sq);
        }
    return 0;
}
