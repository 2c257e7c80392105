//! The array glue, described once: a netlist module around a rows x cols grid of PEs
//! (docs/array.md). The writer turns it into the array top's Verilog (a `generate` grid);
//! `SacArray::update` / `MacArray::update` evaluate the same module in-process
//! ([`tetris_netlist::eval::Eval`]). Nothing else describes the glue.
//!
//! Interface (flat ports, as the drivers and harnesses use them): `act_{r*KS+i}` (a beat's
//! activations, group of row r), one kneaded-weight stream per column (`kw_valid_c`,
//! `kw_ready_c`, every PE input `kw_<f>_<b>` as `kw_<f>_{c*n+b}`, every `kw_<f>` as `kw_<f>_c`),
//! one result stream per column (`out_valid_c`, `out_ready_c`, `out_data_{r*cols+c}`),
//! `act_mask` (columns that take a beat), `start`/`expected`/`done`/`cycles`.
//! Behaviour: a beat is taken when every masked column's PEs have a free bank; a column's
//! weight beat and result beat move when all its rows are ready/valid (they run in
//! lock-step); the cycle counter starts at `start` and stops after `expected` result beats.

use anyhow::{bail, Context, Result};
use rust_hdl::prelude::{Bits, Block, Clock, Signal, Synth, DFF};
use tetris_netlist::eval::Eval;
use tetris_netlist::{ArrayNet, BinOp, Dir, Expr, Grid, Instance, LValue, Module, Net, Port};
use tetris_netlist::{Process, Register, Stmt};

/// The most columns an array may have: the in-process shell's `act_mask` is a 64-bit signal
/// (rust-hdl wants a width known at compile time). The emitted top's `act_mask` has one bit
/// per column.
pub const MASK_BITS: u32 = 64;

/// A PE input `kw_<field>` (one per column) or `kw_<field>_<b>` (`lanes` per column).
#[derive(Clone)]
struct WeightField {
    base: String,
    width: u32,
    lanes: Option<u32>,
}

fn split_index(name: &str) -> Option<(&str, u32)> {
    let (base, i) = name.rsplit_once('_')?;
    Some((base, i.parse().ok()?))
}

fn weight_fields(pe: &Module) -> Vec<WeightField> {
    let mut out: Vec<WeightField> = vec![];
    for p in pe.ports.iter().filter(|p| p.dir == Dir::In) {
        if !p.name.starts_with("kw_") || p.name == "kw_valid" {
            continue;
        }
        match split_index(&p.name) {
            Some((base, _)) => match out.iter_mut().find(|f| f.base == base) {
                Some(f) => *f.lanes.as_mut().expect("lane field") += 1,
                None => out.push(WeightField {
                    base: base.to_string(),
                    width: p.width,
                    lanes: Some(1),
                }),
            },
            None => out.push(WeightField {
                base: p.name.clone(),
                width: p.width,
                lanes: None,
            }),
        }
    }
    out
}

/// A PE with one-hot lane selects (`kw_lane_sel_<b>`, KS bits: the SAC core) gets its
/// column's pointer decode in the glue, once per column instead of once per PE (issue 15:
/// every PE of a column decodes the same stream). The array keeps the kneaded-weight format
/// on its ports: `kw_lane_sel` becomes `kw_lane_valid` (1 bit) and `kw_lane_ptr`
/// (ceil(log2 KS) bits, at least 1, as `Config::widths`).
struct ColumnDecode {
    lanes: u32,
    /// The PE's weight fields with `kw_lane_sel` replaced by valid and ptr.
    port_fields: Vec<WeightField>,
}

fn column_decode(fields: &[WeightField], ks: u32) -> Option<ColumnDecode> {
    let at = fields.iter().position(|f| f.base == "kw_lane_sel")?;
    let lanes = fields[at].lanes.unwrap_or(1);
    let ptr_bits = tetris_core::config::ceil_log2(ks as u64).max(1);
    let field = |base: &str, width| WeightField {
        base: base.into(),
        width,
        lanes: Some(lanes),
    };
    let mut port_fields = fields.to_vec();
    port_fields.splice(
        at..=at,
        [field("kw_lane_valid", 1), field("kw_lane_ptr", ptr_bits)],
    );
    Some(ColumnDecode { lanes, port_fields })
}

fn and_all(terms: Vec<Expr>) -> Expr {
    terms
        .into_iter()
        .reduce(Expr::and)
        .unwrap_or_else(|| Expr::lit(1, 1))
}

fn elem(array: &str, i: u32) -> Expr {
    Expr::elem(array, Expr::Int(i as i64))
}

/// `r * n + c` over the grid indices (`c` may be an offset expression).
fn grid_index(n: u32, plus: Expr) -> Expr {
    Expr::bin(
        BinOp::Add,
        Expr::bin(BinOp::Mul, Expr::GridRow, Expr::Int(n as i64)),
        plus,
    )
}

/// The array top `name` over `rows` x `cols` instances of `pe` (a module whose ports follow
/// the SAC/MAC PE interface of docs/rtl.md).
pub fn array_top(
    name: &str,
    pe: &Module,
    rows: u32,
    cols: u32,
    doc: Vec<String>,
) -> Result<Module> {
    if !(1..=MASK_BITS).contains(&cols) || rows == 0 {
        bail!("array {rows}x{cols}: rows >= 1 and 1..={MASK_BITS} columns");
    }
    let width = |p: &str| -> Result<u32> {
        Ok(pe
            .port(p)
            .with_context(|| format!("PE {} has no port {p}", pe.name))?
            .width)
    };
    let ks = pe
        .ports
        .iter()
        .filter(|p| p.dir == Dir::In && split_index(&p.name).is_some_and(|(b, _)| b == "act"))
        .count() as u32;
    if ks == 0 {
        bail!("PE {} has no activation ports act_<i>", pe.name);
    }
    let act_w = width("act_0")?;
    let res_w = width("res")?;
    let fields = weight_fields(pe);
    let decode = column_decode(&fields, ks);
    let port_fields = decode.as_ref().map_or(&fields, |d| &d.port_fields);
    let pes = rows * cols;

    let mut m = Module::new(name);
    m.doc = doc;
    let mut port = |n: String, dir: Dir, w: u32| m.ports.push(Port::new(n, dir, w));
    port("clock".into(), Dir::In, 1);
    port("reset".into(), Dir::In, 1);
    port("start".into(), Dir::In, 1);
    port("expected".into(), Dir::In, 32);
    port("done".into(), Dir::Out, 1);
    port("cycles".into(), Dir::Out, 32);
    port("act_valid".into(), Dir::In, 1);
    port("act_ready".into(), Dir::Out, 1);
    port("act_mask".into(), Dir::In, cols);
    for k in 0..rows * ks {
        port(format!("act_{k}"), Dir::In, act_w);
    }
    for c in 0..cols {
        port(format!("kw_valid_{c}"), Dir::In, 1);
    }
    for c in 0..cols {
        port(format!("kw_ready_{c}"), Dir::Out, 1);
    }
    for f in port_fields {
        for j in 0..cols * f.lanes.unwrap_or(1) {
            port(format!("{}_{j}", f.base), Dir::In, f.width);
        }
    }
    for c in 0..cols {
        port(format!("out_valid_{c}"), Dir::Out, 1);
    }
    for c in 0..cols {
        port(format!("out_ready_{c}"), Dir::In, 1);
    }
    for k in 0..pes {
        port(format!("out_data_{k}"), Dir::Out, res_w);
    }

    // Flat input ports as arrays the grid indexes.
    let mut array = |n: &str, w: u32, count: u32, drive: Vec<Expr>| {
        m.arrays.push(ArrayNet {
            name: n.to_string(),
            width: w,
            count,
            drive,
        })
    };
    let ports_of = |base: &str, n: u32| (0..n).map(|i| Expr::r(format!("{base}_{i}"))).collect();
    array("act_in", act_w, rows * ks, ports_of("act", rows * ks));
    array("kw_valid_in", 1, cols, ports_of("kw_valid", cols));
    for f in port_fields {
        let n = cols * f.lanes.unwrap_or(1);
        array(&format!("{}_in", f.base), f.width, n, ports_of(&f.base, n));
    }
    if let Some(d) = &decode {
        // The column's pointer decode, shared by its rows: sel = valid ? 1 << ptr : 0.
        let n = cols * d.lanes;
        let sel = (0..n)
            .map(|j| {
                Expr::bin(
                    BinOp::Shl,
                    Expr::Resize(Box::new(elem("kw_lane_valid_in", j)), ks),
                    elem("kw_lane_ptr_in", j),
                )
            })
            .collect();
        array("kw_lane_sel_in", ks, n, sel);
    }
    array("out_ready_in", 1, cols, ports_of("out_ready", cols));
    // PE outputs, element r*cols+c.
    for (p, w) in [
        ("act_ready", 1),
        ("kw_ready", 1),
        ("res_valid", 1),
        ("res", res_w),
    ] {
        array(&format!("pe_{p}"), w, pes, vec![]);
    }
    // A column moves when all its rows do.
    let column = |p: &str| -> Vec<Expr> {
        (0..cols)
            .map(|c| and_all((0..rows).map(|r| elem(p, r * cols + c)).collect()))
            .collect()
    };
    array("col_act_ready", 1, cols, column("pe_act_ready"));
    array("col_kw_ready", 1, cols, column("pe_kw_ready"));
    array("col_res_valid", 1, cols, column("pe_res_valid"));
    let per_col = |f: &dyn Fn(u32) -> Expr| (0..cols).map(f).collect::<Vec<_>>();
    array(
        "pe_act_valid",
        1,
        cols,
        per_col(&|c| {
            Expr::and(
                Expr::r("take_beat"),
                Expr::bit(Expr::r("act_mask"), Expr::Int(c as i64)),
            )
        }),
    );
    array(
        "pe_kw_valid",
        1,
        cols,
        per_col(&|c| Expr::and(elem("kw_valid_in", c), elem("col_kw_ready", c))),
    );
    array(
        "pe_res_ready",
        1,
        cols,
        per_col(&|c| Expr::and(elem("out_ready_in", c), elem("col_res_valid", c))),
    );

    let mut net = |n: &str, w: u32| {
        m.nets.push(Net {
            name: n.into(),
            width: w,
        })
    };
    for (n, w) in [
        ("beat_ready", 1),
        ("take_beat", 1),
        ("accepted", 32),
        ("finished", 1),
        ("count_d", 32),
        ("outs_d", 32),
        ("running_d", 1),
    ] {
        net(n, w);
    }
    for (q, w) in [("count_q", 32), ("outs_q", 32), ("running_q", 1)] {
        m.regs.push(Register {
            q: q.into(),
            d: q.replace("_q", "_d"),
            clock: "clock".into(),
            width: w,
            init: 0u8.into(),
        });
    }

    let assign = |t: &str, e: Expr| Process {
        targets: vec![t.into()],
        body: vec![Stmt::Assign(LValue::Net(t.into()), e)],
    };
    let mut comb = vec![];
    comb.push(assign(
        "beat_ready",
        and_all(
            (0..cols)
                .map(|c| {
                    Expr::or(
                        Expr::invert(Expr::bit(Expr::r("act_mask"), Expr::Int(c as i64))),
                        elem("col_act_ready", c),
                    )
                })
                .collect(),
        ),
    ));
    comb.push(assign(
        "take_beat",
        Expr::and(Expr::r("act_valid"), Expr::r("beat_ready")),
    ));
    comb.push(assign(
        "accepted",
        (0..cols)
            .map(|c| {
                Expr::Resize(
                    Box::new(Expr::and(elem("col_res_valid", c), elem("out_ready_in", c))),
                    32,
                )
            })
            .reduce(|a, b| Expr::bin(BinOp::Add, a, b))
            .expect("at least one column"),
    ));
    comb.push(assign(
        "finished",
        Expr::bin(BinOp::Eq, Expr::r("outs_q"), Expr::r("expected")),
    ));
    comb.push(assign("act_ready", Expr::r("beat_ready")));
    for c in 0..cols {
        comb.push(assign(&format!("kw_ready_{c}"), elem("col_kw_ready", c)));
        comb.push(assign(&format!("out_valid_{c}"), elem("col_res_valid", c)));
    }
    for k in 0..pes {
        comb.push(assign(&format!("out_data_{k}"), elem("pe_res", k)));
    }
    comb.push(assign(
        "done",
        Expr::and(Expr::r("running_q"), Expr::r("finished")),
    ));
    comb.push(assign("cycles", Expr::r("count_q")));
    // Cycle counter: cycle 0 is the start cycle; it stops once all results are out.
    let set = |t: &str, e: Expr| Stmt::Assign(LValue::Net(t.into()), e);
    let inc = |q: &str, by: Expr| Expr::bin(BinOp::Add, Expr::r(q), by);
    comb.push(Process {
        targets: vec!["count_d".into(), "outs_d".into(), "running_d".into()],
        body: vec![
            set("count_d", Expr::r("count_q")),
            set("outs_d", Expr::r("outs_q")),
            set("running_d", Expr::r("running_q")),
            Stmt::If(
                Expr::r("start"),
                vec![
                    set("count_d", Expr::lit(32, 1)),
                    set("outs_d", Expr::r("accepted")),
                    set("running_d", Expr::lit(1, 1)),
                ],
                vec![Stmt::If(
                    Expr::and(Expr::r("running_q"), Expr::invert(Expr::r("finished"))),
                    vec![
                        set("count_d", inc("count_q", Expr::lit(32, 1))),
                        set("outs_d", inc("outs_q", Expr::r("accepted"))),
                    ],
                    vec![],
                )],
            ),
            Stmt::If(
                Expr::r("reset"),
                vec![
                    set("running_d", Expr::lit(1, 0)),
                    set("count_d", Expr::lit(32, 0)),
                    set("outs_d", Expr::lit(32, 0)),
                ],
                vec![],
            ),
        ],
    });
    m.comb = comb;

    // The grid: every PE port by rule.
    let mut conns = vec![];
    for p in &pe.ports {
        let pe_index = grid_index(cols, Expr::GridCol);
        let e = match (p.dir, p.name.as_str()) {
            (Dir::In, "clock" | "reset") => Expr::r(&p.name),
            (Dir::In, "act_valid") => Expr::elem("pe_act_valid", Expr::GridCol),
            (Dir::In, "kw_valid") => Expr::elem("pe_kw_valid", Expr::GridCol),
            (Dir::In, "res_ready") => Expr::elem("pe_res_ready", Expr::GridCol),
            (Dir::Out, "act_ready" | "kw_ready" | "res_valid" | "res") => {
                Expr::elem(format!("pe_{}", p.name), pe_index)
            }
            (Dir::In, name) => match split_index(name) {
                Some(("act", i)) => Expr::elem("act_in", grid_index(ks, Expr::Int(i as i64))),
                Some((base, b)) if base.starts_with("kw_") => {
                    let f = fields.iter().find(|f| f.base == base).context("field")?;
                    let lanes = f.lanes.unwrap_or(1) as i64;
                    Expr::elem(
                        format!("{base}_in"),
                        Expr::bin(
                            BinOp::Add,
                            Expr::bin(BinOp::Mul, Expr::GridCol, Expr::Int(lanes)),
                            Expr::Int(b as i64),
                        ),
                    )
                }
                _ if name.starts_with("kw_") => Expr::elem(format!("{name}_in"), Expr::GridCol),
                _ => bail!("PE port {name}: no rule connects it to the array"),
            },
            (Dir::Out, name) => bail!("PE output {name}: no rule connects it to the array"),
        };
        conns.push((p.name.clone(), e));
    }
    m.grids.push(Grid {
        rows,
        cols,
        instance: Instance {
            module: pe.name.clone(),
            name: "pe".into(),
            conns,
        },
    });
    Ok(m)
}

/// A signal value as the glue evaluator holds it.
pub trait GlueValue {
    fn to_glue(&self) -> u128;
    fn from_glue(v: u128) -> Self;
}

impl GlueValue for bool {
    fn to_glue(&self) -> u128 {
        u128::from(*self)
    }
    fn from_glue(v: u128) -> Self {
        v & 1 == 1
    }
}

impl<const N: usize> GlueValue for Bits<N> {
    fn to_glue(&self) -> u128 {
        self.to_u128()
    }
    fn from_glue(v: u128) -> Self {
        let mut b = Bits::<N>::default();
        for i in 0..N.min(128) {
            b = b.replace_bit(i, (v >> i) & 1 == 1);
        }
        b
    }
}

/// The in-process side of [`array_top`]: the compiled glue and where each signal lives in it.
#[derive(Debug, Clone)]
pub struct GlueSim {
    pub eval: Eval,
    pub rows: usize,
    pub cols: usize,
    /// Slot of each named scalar port or net, or first slot of a port group / array.
    slots: std::collections::HashMap<String, usize>,
    /// The grid's PE inputs, split into field and index (`act_3` -> `act`, 3).
    pe_inputs: Vec<(usize, String, Option<usize>)>,
    /// First slots of the PE output arrays: act_ready, kw_ready, res_valid, res.
    pe_outputs: [usize; 4],
}

/// A PE input as the glue drives it.
pub trait GlueInput {
    fn set(&mut self, v: u128);
    /// Mark it driven (rust-hdl's connectivity check).
    fn connect(&mut self);
}

impl<T: GlueValue + Synth> GlueInput for Signal<rust_hdl::prelude::In, T> {
    fn set(&mut self, v: u128) {
        self.next = T::from_glue(v);
    }
    fn connect(&mut self) {
        rust_hdl::prelude::Logic::connect(self);
    }
}

/// A PE as the glue drives it (SAC core or MAC cell).
pub trait GluePe: Block + Default {
    /// act_ready, kw_ready, res_valid, res.
    fn outputs(&self) -> [u128; 4];
    fn clock(&mut self) -> &mut Signal<rust_hdl::prelude::In, Clock>;
    /// Input `field` (`act`, `kw_lane_sel`, `reset`, ..) element `index`.
    fn input(&mut self, field: &str, index: Option<usize>) -> &mut dyn GlueInput;
}

/// `impl GluePe` for a PE block `$pe<$g, ..>` (const generics) with the PE ports every array
/// PE has (docs/rtl.md): `clock`, `reset`, `act_valid`, `act[i]`, `kw_valid`, `kw_group_end`,
/// `kw_last`, `res_ready` in, `act_ready`, `kw_ready`, `res_valid`, `res` out; and its own
/// weight inputs, one signal (`scalar`) or one per lane (`lanes`).
macro_rules! glue_pe {
    ($pe:ident<$($g:ident),*>, $what:literal, scalar [$($s:ident),*], lanes [$($x:ident),*]) => {
        impl<$(const $g: usize),*> $crate::array_glue::GluePe for $pe<$($g),*> {
            fn outputs(&self) -> [u128; 4] {
                use $crate::array_glue::GlueValue;
                [
                    self.act_ready.val().to_glue(),
                    self.kw_ready.val().to_glue(),
                    self.res_valid.val().to_glue(),
                    self.res.val().to_glue(),
                ]
            }
            fn clock(
                &mut self,
            ) -> &mut rust_hdl::prelude::Signal<rust_hdl::prelude::In, rust_hdl::prelude::Clock> {
                &mut self.clock
            }
            fn input(
                &mut self,
                field: &str,
                index: Option<usize>,
            ) -> &mut dyn $crate::array_glue::GlueInput {
                match (field, index) {
                    ("reset", None) => &mut self.reset,
                    ("act_valid", None) => &mut self.act_valid,
                    ("act", Some(i)) => &mut self.act[i],
                    ("kw_valid", None) => &mut self.kw_valid,
                    $((stringify!($s), None) => &mut self.$s,)*
                    $((stringify!($x), Some(b)) => &mut self.$x[b],)*
                    ("kw_group_end", None) => &mut self.kw_group_end,
                    ("kw_last", None) => &mut self.kw_last,
                    ("res_ready", None) => &mut self.res_ready,
                    other => panic!("{} has no input {other:?}", $what),
                }
            }
        }
    };
}
pub(crate) use glue_pe;

/// PE outputs into the glue.
pub fn read_pes<P: GluePe>(g: &mut GlueSim, pes: &[P]) {
    for (k, pe) in pes.iter().enumerate() {
        for (slot, v) in g.pe_outputs.iter().zip(pe.outputs()) {
            g.eval.set(slot + k, v);
        }
    }
}

/// The glue's grid connections into the PEs (after `settle`).
pub fn drive_pes<P: GluePe>(g: &GlueSim, pes: &mut [P], clock: Clock) {
    for (k, pe) in pes.iter_mut().enumerate() {
        let (r, c) = (k / g.cols, k % g.cols);
        pe.clock().next = clock;
        for (i, field, index) in &g.pe_inputs {
            pe.input(field, *index).set(g.eval.grid_value(*i, r, c));
        }
    }
}

impl GlueSim {
    /// Compile the glue of a rows x cols array of PEs with ports `pe_ports`.
    pub fn new(pe_ports: Vec<Port>, rows: usize, cols: usize) -> Result<GlueSim> {
        let mut pe = Module::new("pe");
        pe.ports = pe_ports;
        let m = array_top("array", &pe, rows as u32, cols as u32, vec![])?;
        let eval = Eval::new(&m)?;
        let mut slots = std::collections::HashMap::new();
        let names = m
            .ports
            .iter()
            .map(|p| p.name.clone())
            .chain(m.nets.iter().map(|n| n.name.clone()))
            .chain(m.regs.iter().map(|r| r.q.clone()))
            .chain(m.arrays.iter().map(|a| a.name.clone()));
        for n in names {
            slots.insert(n.clone(), eval.slot(&n)?);
        }
        let pe_inputs = eval
            .grid_ports()
            .iter()
            .enumerate()
            .filter(|(_, p)| **p != "clock" && pe.port(p).is_some_and(|p| p.dir == Dir::In))
            .map(|(i, p)| {
                let (f, idx) = split_port(p);
                (i, f.to_string(), idx)
            })
            .collect();
        let pe_outputs =
            ["pe_act_ready", "pe_kw_ready", "pe_res_valid", "pe_res"].map(|n| slots[n]);
        Ok(GlueSim {
            eval,
            rows,
            cols,
            slots,
            pe_inputs,
            pe_outputs,
        })
    }
    /// Slot of `name` (a port `act_0`, the first of a group, a net or an array).
    pub fn slot(&self, name: &str) -> usize {
        *self
            .slots
            .get(name)
            .unwrap_or_else(|| panic!("the array glue has no signal {name}"))
    }
    pub fn put(&mut self, slot: usize, v: &impl GlueValue) {
        self.eval.set(slot, v.to_glue());
    }
    pub fn take<T: GlueValue>(&self, slot: usize) -> T {
        T::from_glue(self.eval.get(slot))
    }
    /// Mark every input of `pe` the glue drives as driven.
    pub fn connect_pe<P: GluePe>(&self, pe: &mut P) {
        rust_hdl::prelude::Logic::connect(pe.clock());
        for (_, field, index) in &self.pe_inputs {
            pe.input(field, *index).connect();
        }
    }
}

/// A port group `<first>` = `name_0`, `name_1`, .. (consecutive slots) from signals.
pub fn put_all<T: GlueValue + Synth>(
    g: &mut GlueSim,
    first: &str,
    signals: &[Signal<rust_hdl::prelude::In, T>],
) {
    let s = g.slot(first);
    for (i, x) in signals.iter().enumerate() {
        g.put(s + i, &x.val());
    }
}

/// A port group `<first>` = `name_0`, `name_1`, .. into signals.
pub fn take_all<T: GlueValue + Synth>(
    g: &GlueSim,
    first: &str,
    signals: &mut [Signal<rust_hdl::prelude::Out, T>],
) {
    let s = g.slot(first);
    for (i, x) in signals.iter_mut().enumerate() {
        x.next = g.take(s + i);
    }
}

/// `act_3` -> (`act`, Some(3)); `kw_valid` -> (`kw_valid`, None).
pub fn split_port(name: &str) -> (&str, Option<usize>) {
    match split_index(name) {
        Some((base, i)) => (base, Some(i as usize)),
        None => (name, None),
    }
}

// The glue lives in a block's struct next to its signals; it holds no signals of its own, so
// to rust-hdl it is an empty block (the owner's `update` drives it).
impl rust_hdl::prelude::Logic for GlueSim {
    fn update(&mut self) {}
    fn connect(&mut self) {}
    fn hdl(&self) -> rust_hdl::prelude::Verilog {
        rust_hdl::prelude::Verilog::Empty
    }
}

impl rust_hdl::prelude::Block for GlueSim {
    fn connect_all(&mut self) {}
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, _name: &str, _probe: &mut dyn rust_hdl::prelude::Probe) {}
}

/// The cycle counter's registers: their outputs into the glue ([`counter_in`]) and, after
/// `settle`, their next values and clock ([`counter_out`]).
pub fn counter_in(
    g: &mut GlueSim,
    count: &DFF<Bits<32>>,
    outs: &DFF<Bits<32>>,
    running: &DFF<bool>,
) {
    g.put(g.slot("count_q"), &count.q.val());
    g.put(g.slot("outs_q"), &outs.q.val());
    g.put(g.slot("running_q"), &running.q.val());
}

pub fn counter_out(
    g: &GlueSim,
    clock: Clock,
    count: &mut DFF<Bits<32>>,
    outs: &mut DFF<Bits<32>>,
    running: &mut DFF<bool>,
) {
    count.d.next = g.take(g.slot("count_d"));
    outs.d.next = g.take(g.slot("outs_d"));
    running.d.next = g.take(g.slot("running_d"));
    count.clock.next = clock;
    outs.clock.next = clock;
    running.clock.next = clock;
}

/// The on-chip kneading array top `name`: a row of `cols` kneading units (module `knead`,
/// docs/rtl.md) in front of the host-kneaded array `array` (an [`array_top`] module). The
/// host sends plain weight groups per column (`w_valid_c`, `w_{c*KS+i}`, `w_last_c`;
/// `w_ready_c`, `w_skip_c` back); everything else is the array's interface.
pub fn knead_array_top(
    name: &str,
    knead: &Module,
    array: &Module,
    cols: u32,
    doc: Vec<String>,
) -> Result<Module> {
    let ks = knead
        .ports
        .iter()
        .filter(|p| p.dir == Dir::In && split_index(&p.name).is_some_and(|(b, _)| b == "w"))
        .count() as u32;
    let lanes = knead
        .ports
        .iter()
        .filter(|p| split_index(&p.name).is_some_and(|(b, _)| b == "out_lane_valid"))
        .count() as u32;
    let w_width = knead
        .port("w_0")
        .context("kneading unit without w_0")?
        .width;
    let mut m = Module::new(name);
    m.doc = doc;
    // The array's ports, with its kneaded-weight inputs replaced by plain weight streams.
    let mut inst = vec![];
    for p in &array.ports {
        let (base, idx) = split_port(&p.name);
        let from_knead =
            |field: &str| Expr::elem(format!("knead_{field}"), Expr::Int(idx.unwrap_or(0) as i64));
        let conn = match base {
            "kw_valid" => from_knead("out_valid"),
            "kw_lane_valid" => from_knead("out_lane_valid"),
            "kw_lane_ptr" => from_knead("out_lane_ptr"),
            "kw_lane_neg" => from_knead("out_lane_neg"),
            "kw_group_end" => from_knead("out_group_end"),
            "kw_last" => from_knead("out_last"),
            "kw_ready" => {
                m.nets.push(Net {
                    name: format!("array_{}", p.name),
                    width: 1,
                });
                Expr::r(format!("array_{}", p.name))
            }
            _ => {
                m.ports.push(p.clone());
                Expr::r(&p.name)
            }
        };
        inst.push((p.name.clone(), conn));
    }
    let at = m
        .ports
        .iter()
        .position(|p| p.name == "out_valid_0")
        .context("array without out_valid_0")?;
    let mut plain = vec![];
    for c in 0..cols {
        plain.push(Port::new(format!("w_valid_{c}"), Dir::In, 1));
    }
    for c in 0..cols {
        plain.push(Port::new(format!("w_ready_{c}"), Dir::Out, 1));
    }
    for j in 0..cols * ks {
        plain.push(Port::new(format!("w_{j}"), Dir::In, w_width));
    }
    for c in 0..cols {
        plain.push(Port::new(format!("w_last_{c}"), Dir::In, 1));
    }
    for c in 0..cols {
        plain.push(Port::new(format!("w_skip_{c}"), Dir::Out, 1));
    }
    m.ports.splice(at..at, plain);
    let ports_of = |base: &str, n: u32| (0..n).map(|i| Expr::r(format!("{base}_{i}"))).collect();
    let arr = |n: &str, w: u32, count: u32, drive: Vec<Expr>| ArrayNet {
        name: n.into(),
        width: w,
        count,
        drive,
    };
    m.arrays
        .push(arr("w_valid_in", 1, cols, ports_of("w_valid", cols)));
    m.arrays
        .push(arr("w_in", w_width, cols * ks, ports_of("w", cols * ks)));
    m.arrays
        .push(arr("w_last_in", 1, cols, ports_of("w_last", cols)));
    m.arrays.push(arr(
        "kw_ready_in",
        1,
        cols,
        ports_of("array_kw_ready", cols),
    ));
    let mut kconns = vec![];
    for p in &knead.ports {
        let (base, idx) = split_port(&p.name);
        let c = Expr::GridCol;
        let lane = |b: usize| {
            Expr::bin(
                BinOp::Add,
                Expr::bin(BinOp::Mul, Expr::GridCol, Expr::Int(lanes as i64)),
                Expr::Int(b as i64),
            )
        };
        let e = match (base, idx) {
            ("clock" | "reset", None) => Expr::r(base),
            ("in_valid", None) => Expr::elem("w_valid_in", c),
            ("w", Some(i)) => Expr::elem(
                "w_in",
                Expr::bin(
                    BinOp::Add,
                    Expr::bin(BinOp::Mul, Expr::GridCol, Expr::Int(ks as i64)),
                    Expr::Int(i as i64),
                ),
            ),
            ("in_last", None) => Expr::elem("w_last_in", c),
            ("out_ready", None) => Expr::elem("kw_ready_in", c),
            ("in_ready" | "in_skip" | "out_valid" | "out_group_end" | "out_last", None) => {
                Expr::elem(format!("knead_{base}"), c)
            }
            ("out_lane_valid" | "out_lane_ptr" | "out_lane_neg", Some(b)) => {
                Expr::elem(format!("knead_{base}"), lane(b))
            }
            _ => bail!("kneading unit port {}: no rule connects it", p.name),
        };
        if p.dir == Dir::Out {
            let count = if idx.is_some() { cols * lanes } else { cols };
            if !m.arrays.iter().any(|a| a.name == format!("knead_{base}")) {
                m.arrays
                    .push(arr(&format!("knead_{base}"), p.width, count, vec![]));
            }
        }
        kconns.push((p.name.clone(), e));
    }
    let assign = |t: String, e: Expr| Process {
        targets: vec![t.clone()],
        body: vec![Stmt::Assign(LValue::Net(t), e)],
    };
    for c in 0..cols {
        m.comb
            .push(assign(format!("w_ready_{c}"), elem("knead_in_ready", c)));
        m.comb
            .push(assign(format!("w_skip_{c}"), elem("knead_in_skip", c)));
    }
    m.instances.push(Instance {
        module: array.name.clone(),
        name: "array".into(),
        conns: inst,
    });
    m.grids.push(Grid {
        rows: 1,
        cols,
        instance: Instance {
            module: knead.name.clone(),
            name: "knead".into(),
            conns: kconns,
        },
    });
    Ok(m)
}
