//! The MAC baseline array (`[pe] kind = "mac"`): the same top-level interface and glue as the
//! SAC array (`array.rs`, `docs/array.md`), with a MAC cell per PE. A column's weight stream
//! carries one weight per beat: the sign-magnitude weight and `ptr`, the index of its
//! activation in the current group; `group_end` / `last` as in the SAC stream.

use super::array_glue::{
    counter_in, counter_out, drive_pes, put_all, put_common, read_pes, take_outputs, Common,
    GluePe, GlueSim, GlueValue, Outputs,
};
use super::mac_pe::MacPe;
use rust_hdl::prelude::*;
use tetris_netlist::from_rust_hdl::block_ports;

/// A MAC PE behind the SAC PE's two activation banks: a beat multiplies the weight with
/// activation `ptr` of the current group. Timing equals the SAC PE's (docs/rtl.md): a group
/// accepted in cycle c is usable in c+1, a beat with `group_end` releases the bank, one beat per
/// cycle, the result is valid the cycle after the `last` beat.
#[derive(LogicBlock)]
pub struct MacCell<
    const W: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act: [Signal<In, Bits<A>>; KS],
    pub kw_valid: Signal<In, Bit>,
    pub kw_ready: Signal<Out, Bit>,
    pub kw_w: Signal<In, Bits<W>>,
    pub kw_ptr: Signal<In, Bits<P>>,
    pub kw_group_end: Signal<In, Bit>,
    pub kw_last: Signal<In, Bit>,
    pub res_valid: Signal<Out, Bit>,
    pub res_ready: Signal<In, Bit>,
    pub res: Signal<Out, Bits<RES>>,
    cur: [DFF<Bits<A>>; KS],
    nxt: [DFF<Bits<A>>; KS],
    cur_full: DFF<Bit>,
    nxt_full: DFF<Bit>,
    mac: MacPe<W, A, RES>,
    fire: Signal<Local, Bit>,
    act_fire: Signal<Local, Bit>,
    bank_release: Signal<Local, Bit>,
    refill: Signal<Local, Bit>,
}

impl<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize> Default
    for MacCell<W, KS, P, A, RES>
{
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            act_valid: Default::default(),
            act_ready: Default::default(),
            act: std::array::from_fn(|_| Default::default()),
            kw_valid: Default::default(),
            kw_ready: Default::default(),
            kw_w: Default::default(),
            kw_ptr: Default::default(),
            kw_group_end: Default::default(),
            kw_last: Default::default(),
            res_valid: Default::default(),
            res_ready: Default::default(),
            res: Default::default(),
            cur: std::array::from_fn(|_| Default::default()),
            nxt: std::array::from_fn(|_| Default::default()),
            cur_full: Default::default(),
            nxt_full: Default::default(),
            mac: Default::default(),
            fire: Default::default(),
            act_fire: Default::default(),
            bank_release: Default::default(),
            refill: Default::default(),
        }
    }
}

impl<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize> Logic
    for MacCell<W, KS, P, A, RES>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, cur_full, nxt_full);
        self.mac.clock.next = self.clock.val();
        self.mac.reset.next = self.reset.val();
        self.mac.res_ready.next = self.res_ready.val();
        self.kw_ready.next = self.cur_full.q.val() & self.mac.in_ready.val();
        self.act_ready.next = !self.nxt_full.q.val();
        self.fire.next = self.kw_valid.val() & self.cur_full.q.val() & self.mac.in_ready.val();
        self.act_fire.next = self.act_valid.val() & !self.nxt_full.q.val();
        self.bank_release.next = self.fire.val() & (self.kw_group_end.val() | self.kw_last.val());
        self.refill.next = !self.cur_full.q.val() | self.bank_release.val();
        for i in 0..KS {
            self.cur[i].clock.next = self.clock.val();
            self.nxt[i].clock.next = self.clock.val();
            self.cur[i].d.next = self.cur[i].q.val();
            self.nxt[i].d.next = self.nxt[i].q.val();
            if self.refill.val() {
                if self.nxt_full.q.val() {
                    self.cur[i].d.next = self.nxt[i].q.val();
                } else {
                    self.cur[i].d.next = self.act[i].val();
                }
            } else if self.act_fire.val() {
                self.nxt[i].d.next = self.act[i].val();
            }
        }
        if self.refill.val() {
            self.cur_full.d.next = self.nxt_full.q.val() | self.act_fire.val();
            self.nxt_full.d.next = false;
        } else {
            self.nxt_full.d.next = self.nxt_full.q.val() | self.act_fire.val();
        }
        // The activation the weight belongs to (loop-and-compare select).
        self.mac.a.next = 0.into();
        for i in 0..KS {
            if self.kw_ptr.val().index() == i {
                self.mac.a.next = self.cur[i].q.val();
            }
        }
        self.mac.w.next = self.kw_w.val();
        self.mac.in_valid.next = self.kw_valid.val() & self.cur_full.q.val();
        self.mac.in_last.next = self.kw_last.val();
        self.res_valid.next = self.mac.res_valid.val();
        self.res.next = self.mac.res.val();
        if self.reset.val() {
            self.cur_full.d.next = false;
            self.nxt_full.d.next = false;
        }
    }
}

/// rows x cols MAC cells with the SAC array's glue.
#[derive(LogicBlock)]
pub struct MacArray<
    const W: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub expected: Signal<In, Bits<32>>,
    pub done: Signal<Out, Bit>,
    pub cycles: Signal<Out, Bits<32>>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act_mask: Signal<In, Bits<64>>,
    pub act: Vec<Signal<In, Bits<A>>>,
    pub kw_valid: Vec<Signal<In, Bit>>,
    pub kw_ready: Vec<Signal<Out, Bit>>,
    pub kw_w: Vec<Signal<In, Bits<W>>>,
    pub kw_ptr: Vec<Signal<In, Bits<P>>>,
    pub kw_group_end: Vec<Signal<In, Bit>>,
    pub kw_last: Vec<Signal<In, Bit>>,
    pub out_valid: Vec<Signal<Out, Bit>>,
    pub out_ready: Vec<Signal<In, Bit>>,
    pub out_data: Vec<Signal<Out, Bits<RES>>>,
    pes: Vec<MacCell<W, KS, P, A, RES>>,
    count: DFF<Bits<32>>,
    outs: DFF<Bits<32>>,
    running: DFF<Bit>,
    glue: GlueSim,
}

fn v<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize>
    MacArray<W, KS, P, A, RES>
{
    pub fn new(rows: usize, cols: usize) -> Self {
        assert!(rows >= 1 && (1..=64).contains(&cols));
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            expected: Default::default(),
            done: Default::default(),
            cycles: Default::default(),
            act_valid: Default::default(),
            act_ready: Default::default(),
            act_mask: Default::default(),
            act: v(rows * KS),
            kw_valid: v(cols),
            kw_ready: v(cols),
            kw_w: v(cols),
            kw_ptr: v(cols),
            kw_group_end: v(cols),
            kw_last: v(cols),
            out_valid: v(cols),
            out_ready: v(cols),
            out_data: v(rows * cols),
            pes: v(rows * cols),
            count: Default::default(),
            outs: Default::default(),
            running: Default::default(),
            glue: {
                let pe = MacCell::<W, KS, P, A, RES>::default();
                let ports = block_ports(&pe).expect("the MAC cell's ports");
                GlueSim::new(ports, rows, cols).expect("the MAC array glue compiles")
            },
        }
    }

    pub fn rows(&self) -> usize {
        self.act.len() / KS
    }

    pub fn cols(&self) -> usize {
        self.kw_valid.len()
    }
}

impl<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize> Logic
    for MacArray<W, KS, P, A, RES>
{
    fn connect(&mut self) {
        self.done.connect();
        self.cycles.connect();
        self.act_ready.connect();
        self.kw_ready.iter_mut().for_each(|s| s.connect());
        self.out_valid.iter_mut().for_each(|s| s.connect());
        self.out_data.iter_mut().for_each(|s| s.connect());
        for pe in &mut self.pes {
            pe.clock.connect();
            pe.reset.connect();
            pe.act_valid.connect();
            pe.act.iter_mut().for_each(|s| s.connect());
            pe.kw_valid.connect();
            pe.kw_w.connect();
            pe.kw_ptr.connect();
            pe.kw_group_end.connect();
            pe.kw_last.connect();
            pe.res_ready.connect();
        }
        self.count.clock.connect();
        self.count.d.connect();
        self.outs.clock.connect();
        self.outs.d.connect();
        self.running.clock.connect();
        self.running.d.connect();
    }

    /// The array's Verilog is written from its glue description (`super::array_glue`).
    fn hdl(&self) -> Verilog {
        Verilog::Empty
    }

    fn update(&mut self) {
        let clock = self.clock.val();
        let g = &mut self.glue;
        put_common(
            g,
            &Common {
                reset: self.reset.val(),
                start: self.start.val(),
                expected: self.expected.val(),
                act_valid: self.act_valid.val(),
                act_mask: self.act_mask.val(),
            },
        );
        put_all(g, "act_0", &self.act);
        put_all(g, "kw_valid_0", &self.kw_valid);
        put_all(g, "kw_w_0", &self.kw_w);
        put_all(g, "kw_ptr_0", &self.kw_ptr);
        put_all(g, "kw_group_end_0", &self.kw_group_end);
        put_all(g, "kw_last_0", &self.kw_last);
        put_all(g, "out_ready_0", &self.out_ready);
        read_pes(g, &self.pes);
        counter_in(g, &self.count, &self.outs, &self.running);
        g.eval.settle();
        take_outputs(
            g,
            Outputs {
                act_ready: &mut self.act_ready,
                done: &mut self.done,
                cycles: &mut self.cycles,
                kw_ready: &mut self.kw_ready,
                out_valid: &mut self.out_valid,
                out_data: &mut self.out_data,
            },
        );
        counter_out(g, clock, &mut self.count, &mut self.outs, &mut self.running);
        drive_pes(g, &mut self.pes, clock);
    }
}

impl<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize> GluePe
    for MacCell<W, KS, P, A, RES>
{
    fn outputs(&self) -> [u128; 4] {
        [
            self.act_ready.val().to_glue(),
            self.kw_ready.val().to_glue(),
            self.res_valid.val().to_glue(),
            self.res.val().to_glue(),
        ]
    }
    fn set_clock(&mut self, clock: Clock) {
        self.clock.next = clock;
    }
    fn set_input(&mut self, field: &str, index: Option<usize>, v: u128) {
        match (field, index) {
            ("reset", None) => self.reset.next = GlueValue::from_glue(v),
            ("act_valid", None) => self.act_valid.next = GlueValue::from_glue(v),
            ("act", Some(i)) => self.act[i].next = GlueValue::from_glue(v),
            ("kw_valid", None) => self.kw_valid.next = GlueValue::from_glue(v),
            ("kw_w", None) => self.kw_w.next = GlueValue::from_glue(v),
            ("kw_ptr", None) => self.kw_ptr.next = GlueValue::from_glue(v),
            ("kw_group_end", None) => self.kw_group_end.next = GlueValue::from_glue(v),
            ("kw_last", None) => self.kw_last.next = GlueValue::from_glue(v),
            ("res_ready", None) => self.res_ready.next = GlueValue::from_glue(v),
            other => panic!("MAC cell has no input {other:?}"),
        }
    }
}
