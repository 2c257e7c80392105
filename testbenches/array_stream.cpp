// Stream-driving harness of the Tetris / MAC array for Verilator (tetris sim --engine verilator).
//
// Drives the array's stream protocol itself, exactly as the in-process host loop of
// src/array/rtl_driver.rs (drive_array!) does: one reset cycle, `start` in cycle 0, every
// cycle offer the next activation beat and each column's next weight beat, out_ready always
// high, count transfers from valid & ready sampled before the rising edge, stop when `done`.
//
// Template: src/flow/verilator.rs prepends the design's top (VTOP, VTOP_HEADER), its sizes
// (ROWS, COLS, KS, LANES, MAC_ARRAY) and a `Ports` struct with pointers to the indexed ports
// (act_k, kw_*_c, out_*_c), generated from the emitted Verilog's port list.
//
// Usage: array_stream STIM.bin OUT.bin
//   STIM.bin (little endian): "TSTM", u32 rows, cols, ks, lanes, mac, expected, act_beats;
//     act_beats x (u64 mask, rows*ks x u16 activation bits);
//     per column: u32 beats, then per beat SAC: lanes x u8 (bit0 valid, bit1 neg, bits 2.. ptr)
//     + u8 flags (bit0 group_end, bit1 last); MAC: u32 sign-magnitude weight, u8 ptr, u8 flags.
//   OUT.bin: "TOUT", u32 done, u32 cycle counter, u64 cycles simulated, then per column
//     u32 result beats + beats x rows x u64 raw out_data bits.
#include "verilated.h"
#include VTOP_HEADER
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

// ---- GENERATED ----

struct Reader {
    std::vector<uint8_t> buf;
    size_t pos = 0;
    bool ok = true;
    template <class T> T get() {
        T v{};
        if (pos + sizeof(T) > buf.size()) { ok = false; return v; }
        memcpy(&v, buf.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    const uint8_t* take(size_t n) {
        if (pos + n > buf.size()) { ok = false; return nullptr; }
        const uint8_t* p = buf.data() + pos;
        pos += n;
        return p;
    }
};

static int fail(const char* what, const char* file) {
    fprintf(stderr, "%s: %s\n", file, what);
    return 2;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s STIM.bin OUT.bin\n", argv[0]);
        return 2;
    }
    Reader r;
    {
        FILE* f = fopen(argv[1], "rb");
        if (!f) return fail("cannot open", argv[1]);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        r.buf.resize(n > 0 ? (size_t)n : 0);
        if (fread(r.buf.data(), 1, r.buf.size(), f) != r.buf.size()) return fail("cannot read", argv[1]);
        fclose(f);
    }
    const uint8_t* magic = r.take(4);
    if (!magic || memcmp(magic, "TSTM", 4) != 0) return fail("not an array stimulus file", argv[1]);
    uint32_t rows = r.get<uint32_t>(), cols = r.get<uint32_t>(), ks = r.get<uint32_t>();
    uint32_t lanes = r.get<uint32_t>(), mac = r.get<uint32_t>(), expected = r.get<uint32_t>();
    uint32_t n_acts = r.get<uint32_t>();
    if (!r.ok || rows != ROWS || cols != COLS || ks != KS || lanes != LANES || mac != MAC_ARRAY)
        return fail("header does not match the built array (rows, cols, ks, lanes, kind)", argv[1]);
    const size_t act_bytes = 8 + (size_t)ROWS * KS * 2;
    const uint8_t* acts = r.take(act_bytes * n_acts);
    const size_t wbeat = MAC_ARRAY ? 6 : LANES + 1;
    std::vector<const uint8_t*> wstream(COLS);
    std::vector<uint32_t> wlen(COLS);
    uint64_t total_beats = n_acts;
    for (int c = 0; c < COLS; c++) {
        wlen[c] = r.get<uint32_t>();
        wstream[c] = r.take(wbeat * wlen[c]);
        total_beats += wlen[c];
    }
    if (!r.ok || r.pos != r.buf.size()) return fail("truncated or oversized stimulus", argv[1]);

    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<VTOP>(ctx.get());
    Ports p(*top);
    top->clock = 0;
    top->reset = 1;
    top->eval();
    top->clock = 1;
    top->eval();
    top->clock = 0;
    top->reset = 0;
    top->expected = expected;

    uint32_t ai = 0;
    std::vector<uint32_t> wi(COLS, 0);
    std::vector<std::vector<uint64_t>> results(COLS);
    uint64_t cycle = 0;
    uint32_t done = 0, counter = 0;
    for (;;) {
        if (cycle > 4 * total_beats + 1000) {
            fprintf(stderr, "the array made no progress for too long (cycle %llu)\n", (unsigned long long)cycle);
            break;
        }
        top->start = cycle == 0;
        bool av = ai < n_acts;
        top->act_valid = av;
        const uint8_t* a = av ? acts + act_bytes * ai : nullptr;
        uint64_t mask = 0;
        if (a) memcpy(&mask, a, 8);
        // One mask bit per column: Verilator wants no bit set above a port's width.
        const uint64_t col_bits = COLS >= 64 ? ~0ull : (1ull << (COLS % 64)) - 1;
        top->act_mask = mask & col_bits;
        for (int k = 0; k < ROWS * KS; k++) {
            uint16_t v = 0;
            if (a) memcpy(&v, a + 8 + 2 * k, 2);
            *p.act[k] = v;
        }
        for (int c = 0; c < COLS; c++) {
            bool wv = wi[c] < wlen[c];
            const uint8_t* b = wv ? wstream[c] + wbeat * wi[c] : nullptr;
            *p.kw_valid[c] = wv;
#if MAC_ARRAY
            uint32_t w = 0;
            if (b) memcpy(&w, b, 4);
            *p.kw_w[c] = w;
            *p.kw_ptr[c] = b ? b[4] : 0;
            uint8_t flags = b ? b[5] : 0;
#else
            for (int l = 0; l < LANES; l++) {
                uint8_t x = b ? b[l] : 0;
                *p.kw_lane_valid[c * LANES + l] = x & 1;
                *p.kw_lane_neg[c * LANES + l] = (x >> 1) & 1;
                *p.kw_lane_ptr[c * LANES + l] = x >> 2;
            }
            uint8_t flags = b ? b[LANES] : 0;
#endif
            *p.kw_group_end[c] = flags & 1;
            *p.kw_last[c] = (flags >> 1) & 1;
            *p.out_ready[c] = 1;
        }
        top->eval();
        if (top->done) {
            done = 1;
            counter = top->cycles;
            break;
        }
        if (top->act_valid && top->act_ready) ai++;
        for (int c = 0; c < COLS; c++) {
            if (*p.kw_valid[c] && *p.kw_ready[c]) wi[c]++;
            if (*p.out_valid[c]) {
                for (int row = 0; row < ROWS; row++) results[c].push_back((uint64_t)*p.out_data[row * COLS + c]);
            }
        }
        top->clock = 1;
        top->eval();
        top->clock = 0;
        cycle++;
    }
    top->final();
    FILE* o = fopen(argv[2], "wb");
    if (!o) return fail("cannot open", argv[2]);
    fwrite("TOUT", 1, 4, o);
    fwrite(&done, 4, 1, o);
    fwrite(&counter, 4, 1, o);
    fwrite(&cycle, 8, 1, o);
    for (int c = 0; c < COLS; c++) {
        uint32_t n = (uint32_t)(results[c].size() / ROWS);
        fwrite(&n, 4, 1, o);
        fwrite(results[c].data(), 8, results[c].size(), o);
    }
    if (fclose(o) != 0) return fail("cannot write", argv[2]);
    return done ? 0 : 1;
}
