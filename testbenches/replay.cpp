// Trace-replay harness for Verilator co-simulation (tetris cosim).
//
// Template: src/flow/verilator.rs replaces TOP_MODULE and the GENERATED block with the
// design's top module and per-port copy code (parsed from the emitted Verilog's port list).
//
// Usage: replay STIM.bin OUT.bin [WAVE.vcd|WAVE.fst]
//   STIM.bin: "TRPL", u32 cycles, u32 input words per cycle, u32 output words per cycle, then
//             per cycle the input ports' values as little-endian 32-bit words (port order of
//             the GENERATED block, wide ports low word first).
//   OUT.bin:  per cycle the output ports' values, same layout, sampled after the inputs
//             settled and before the rising edge (as the in-process rust-hdl drivers sample).
// One reset cycle (reset = 1, every other input 0) precedes the replay, as in the Rust drivers.
#include "verilated.h"
#include VTOP_HEADER
#if VM_TRACE_FST
#include "verilated_fst_c.h"
typedef VerilatedFstC WaveFile;
#elif VM_TRACE
#include "verilated_vcd_c.h"
typedef VerilatedVcdC WaveFile;
#endif
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

// ---- GENERATED ----

static bool read_all(FILE* f, void* p, size_t n) { return fread(p, 1, n, f) == n; }

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s STIM.bin OUT.bin [WAVE]\n", argv[0]);
        return 2;
    }
    FILE* in = fopen(argv[1], "rb");
    if (!in) { fprintf(stderr, "cannot open %s\n", argv[1]); return 2; }
    char magic[4];
    uint32_t head[3];
    if (!read_all(in, magic, 4) || memcmp(magic, "TRPL", 4) != 0 || !read_all(in, head, sizeof head)) {
        fprintf(stderr, "%s: not a replay stimulus file\n", argv[1]);
        return 2;
    }
    if (head[1] != IN_WORDS || head[2] != OUT_WORDS) {
        fprintf(stderr, "%s: %u/%u words per cycle, the harness expects %u/%u\n", argv[1], head[1],
                head[2], (unsigned)IN_WORDS, (unsigned)OUT_WORDS);
        return 2;
    }
    FILE* out = fopen(argv[2], "wb");
    if (!out) { fprintf(stderr, "cannot open %s\n", argv[2]); return 2; }
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<VTOP>(ctx.get());
    uint64_t t = 0;
#if VM_TRACE
    std::unique_ptr<WaveFile> wave;
    if (argc > 3) {
        ctx->traceEverOn(true);
        wave = std::make_unique<WaveFile>();
        top->trace(wave.get(), 99);
        wave->open(argv[3]);
    }
#define DUMP() do { if (wave) wave->dump(t); t++; } while (0)
#else
    if (argc > 3) { fprintf(stderr, "this harness was built without waveform support\n"); return 2; }
#define DUMP() do { t++; } while (0)
#endif
    top->clock = 0;
    top->reset = 1;
    top->eval(); DUMP();
    top->clock = 1;
    top->eval(); DUMP();
    top->clock = 0;
    top->reset = 0;
    std::vector<uint32_t> iw(IN_WORDS + 1), ow(OUT_WORDS + 1);
    for (uint32_t c = 0; c < head[0]; c++) {
        if (!read_all(in, iw.data(), IN_WORDS * 4)) {
            fprintf(stderr, "%s: truncated at cycle %u\n", argv[1], c);
            return 2;
        }
        set_inputs(*top, iw.data());
        top->eval(); DUMP();
        get_outputs(*top, ow.data());
        fwrite(ow.data(), 4, OUT_WORDS, out);
        top->clock = 1;
        top->eval(); DUMP();
        top->clock = 0;
    }
    top->final();
#if VM_TRACE
    if (wave) wave->close();
#endif
    fclose(in);
    if (fclose(out) != 0) { fprintf(stderr, "cannot write %s\n", argv[2]); return 2; }
    return 0;
}
