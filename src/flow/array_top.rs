//! The Verilog of a rows x cols array top (SAC or MAC PEs, or the SAC array behind on-chip
//! kneading units), written as generate loops.
//!
//! Why: rust-hdl emits one module per *instance* and the array glue as one `always @(*)`
//! block over every PE port. At 16x16 that is 21,508 instances visited (56 s of `tetris gen`)
//! and a 2.3 MB top whose single block Verilator turns into megabytes of C++. The array's
//! structure is regular, so this writer emits it once, as a reader would write it:
//! 1. the PE (and everything below it) is emitted by rust-hdl from a 1x1 array, whose module
//!    text does not depend on the array size;
//! 2. the top keeps the flat port list of the rust-hdl top (`act_0` .. `act_{rows*KS-1}`,
//!    `kw_lane_ptr_{c*L+b}`, `out_data_{r*cols+c}`, in the same order), so the drivers, the
//!    harnesses and the in-process model see the same interface;
//! 3. inside, the ports are packed into buses and a `generate` grid instantiates the PEs; the
//!    glue is `SacArray::update` / `MacArray::update` (src/hdl/array.rs, mac_array.rs) line for
//!    line, which the co-simulation tests check cycle by cycle against that in-process model.
//!
//! The rules that connect a PE port to the top are by name, so the same writer serves the SAC
//! PE (lanes `kw_lane_valid_b`, `kw_lane_ptr_b`, `kw_lane_neg_b`) and the MAC PE (`kw_w`,
//! `kw_ptr`): a PE input `kw_<f>_<b>` of column c takes top port `kw_<f>_{c*n+b}` (n = lanes of
//! the field), a PE input `kw_<f>` takes `kw_<f>_c`.

use super::ports::{parse_ports, Dir, Port};
use super::verilog::{Design, Header, Module};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;

/// A group of top ports `<base>_<i>` (or a scalar port when `count` is None).
struct Group {
    base: String,
    dir: Dir,
    width: u32,
    count: Option<usize>,
}

/// Split `name` into its base and trailing index: `act_12` -> (`act`, 12).
fn split_index(name: &str) -> Option<(&str, usize)> {
    let (base, i) = name.rsplit_once('_')?;
    Some((base, i.parse().ok()?))
}

/// The top's port groups, scaled from the 1x1 top's ports to rows x cols.
fn scale_groups(ports_1x1: &[Port], rows: usize, cols: usize) -> Vec<Group> {
    let mut groups: Vec<Group> = vec![];
    for p in ports_1x1 {
        match split_index(&p.name) {
            Some((base, _)) => {
                if let Some(g) = groups.iter_mut().find(|g| g.base == base) {
                    *g.count.as_mut().expect("indexed group") += 1;
                } else {
                    groups.push(Group {
                        base: base.to_string(),
                        dir: p.dir,
                        width: p.width,
                        count: Some(1),
                    });
                }
            }
            None => groups.push(Group {
                base: p.name.clone(),
                dir: p.dir,
                width: p.width,
                count: None,
            }),
        }
    }
    for g in &mut groups {
        if let Some(n) = g.count.as_mut() {
            // Activations are per row, results per PE, every stream port per column.
            *n *= match g.base.as_str() {
                "act" => rows,
                "out_data" => rows * cols,
                _ => cols,
            };
        }
    }
    groups
}

fn port_names(g: &Group) -> Vec<String> {
    match g.count {
        None => vec![g.base.clone()],
        Some(n) => (0..n).map(|i| format!("{}_{i}", g.base)).collect(),
    }
}

fn range(width: u32) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

/// The connection of PE port `p` in the generate grid (genvars `r`, `c`, PE index `k`).
fn pe_connection(p: &Port, groups: &[Group], cols: usize, act_width: u32) -> Result<String> {
    let col_group = |base: &str| groups.iter().find(|g| g.base == base && g.count.is_some());
    let expr = match p.name.as_str() {
        "clock" | "reset" => p.name.clone(),
        "act_valid" => "take_beat & act_mask[c]".into(),
        "act_ready" => "pe_act_ready[k]".into(),
        "kw_valid" => "kw_valid_bus[c] & col_kw_ready[c]".into(),
        "kw_ready" => "pe_kw_ready[k]".into(),
        "res_valid" => "pe_res_valid[k]".into(),
        "res_ready" => "out_ready_bus[c] & col_res_valid[c]".into(),
        "res" => format!("out_data_bus[k*{w} +: {w}]", w = p.width),
        name => match split_index(name) {
            Some(("act", i)) => format!("act_bus[(r*KS+{i})*{act_width} +: {act_width}]"),
            Some((base, b)) if base.starts_with("kw_") => {
                let g = col_group(base)
                    .with_context(|| format!("PE port {name}: the top has no {base}_* ports"))?;
                let lanes = g.count.unwrap_or(1) / cols;
                format!("{base}_bus[(c*{lanes}+{b})*{w} +: {w}]", w = p.width)
            }
            _ if name.starts_with("kw_") => {
                col_group(name)
                    .with_context(|| format!("PE port {name}: the top has no {name}_* ports"))?;
                format!("{name}_bus[c*{w} +: {w}]", w = p.width)
            }
            _ => bail!("PE port {name}: no rule connects it to the array top"),
        },
    };
    Ok(expr)
}

/// The rows x cols array design from the rust-hdl emission of its 1x1 version: every module
/// below the top is kept, the top is replaced by the generate-loop top of this file.
pub fn scale_array(
    one: Design,
    rows: usize,
    cols: usize,
    ks: usize,
    header: &Header,
) -> Result<Design> {
    let top = one.top.clone();
    let top_1x1 = module(&one.modules, &top)?;
    let pe_name = top_1x1
        .children
        .iter()
        .find(|c| c.ends_with("_pes"))
        .context("the 1x1 array top instantiates no PE (`pes`)")?
        .clone();
    let pe = module(&one.modules, &pe_name)?;
    let top_ports = parse_ports(&top_1x1.text, &top)?;
    let pe_ports = parse_ports(&pe.text, &pe_name)?;
    let groups = scale_groups(&top_ports, rows, cols);
    let act_width = top_ports
        .iter()
        .find(|p| p.name == "act_0")
        .context("the array top has no act_0 port")?
        .width;
    let text = top_text(
        &top, &pe_name, &groups, &pe_ports, rows, cols, ks, act_width, header,
    )?;

    // Keep the modules the new top reaches (the 1x1 top's counter registers are not used).
    let keep = below(&one.modules, &pe_name);
    let pe_instances = subtree_instances(&one.modules, &pe_name);
    let mut modules: Vec<Module> = one
        .modules
        .into_iter()
        .filter(|m| keep.contains(&m.name))
        .collect();
    modules.push(Module {
        name: top.clone(),
        text,
        children: vec![pe_name],
    });
    Ok(Design {
        top,
        modules,
        instances: 1 + rows * cols * pe_instances,
    })
}

/// `module top(...)`, the localparams, one declaration per port and the buses of the port
/// groups `bused` picks.
fn ports_and_buses(
    top: &str,
    groups: &[Group],
    localparams: &str,
    bused: &dyn Fn(&str) -> bool,
) -> String {
    let all: Vec<String> = groups.iter().flat_map(port_names).collect();
    let mut v = format!("module {top}({});\n", all.join(","));
    v += localparams;
    v += "\n    // Module arguments\n";
    for g in groups {
        let dir = match g.dir {
            Dir::Input => "input wire ",
            Dir::Output => "output wire",
        };
        for n in port_names(g) {
            v += &format!("    {dir} {}{n};\n", range(g.width));
        }
    }
    v += "\n    // The flat ports packed into buses (element i = port <name>_i).\n";
    for g in groups.iter().filter(|g| bused(&g.base)) {
        let Some(n) = g.count else { continue };
        let bus = format!("{}_bus", g.base);
        let width = n as u32 * g.width;
        match g.dir {
            Dir::Input => {
                let parts: Vec<String> = (0..n).rev().map(|i| format!("{}_{i}", g.base)).collect();
                v += &format!(
                    "    wire [{}:0] {bus} = {{{}}};\n",
                    width - 1,
                    parts.join(", ")
                );
            }
            Dir::Output => {
                v += &format!("    wire [{}:0] {bus};\n", width - 1);
                for i in 0..n {
                    v += &format!("    assign {}_{i} = {};\n", g.base, slice(&bus, i, g.width));
                }
            }
        }
    }
    v
}

/// The header every emitted module starts with (as `verilog::postprocess` writes it), plus
/// one line saying what kind of top this is.
fn header_comment(top: &str, header: &Header, what: &str) -> String {
    format!(
        "// {top}: generated by {gen}, config hash {hash}. Do not edit.\n// {desc}\n// {what}\n",
        gen = header.generator,
        hash = header.config_hash,
        desc = header.description,
    )
}

/// Element i of a bus of `width`-bit elements.
fn slice(bus: &str, i: usize, width: u32) -> String {
    if width == 1 {
        format!("{bus}[{i}]")
    } else {
        format!("{bus}[{}:{}]", (i as u32 + 1) * width - 1, i as u32 * width)
    }
}

#[allow(clippy::too_many_arguments)]
fn top_text(
    top: &str,
    pe_name: &str,
    groups: &[Group],
    pe_ports: &[Port],
    rows: usize,
    cols: usize,
    ks: usize,
    act_width: u32,
    header: &Header,
) -> Result<String> {
    let mut v = header_comment(
        top,
        header,
        &format!(
            "Array top: a generate grid of {pe_name}, glue as SacArray::update / MacArray::update."
        ),
    );
    v += &ports_and_buses(
        top,
        groups,
        &format!("    localparam ROWS = {rows};\n    localparam COLS = {cols};\n    localparam KS = {ks};\n"),
        &|_| true,
    );
    v += "
    // Per-PE handshakes, ANDed per column: the rows of a column run in lock-step, so they
    // agree; the AND keeps it safe.
    wire [ROWS*COLS-1:0] pe_act_ready;
    wire [ROWS*COLS-1:0] pe_kw_ready;
    wire [ROWS*COLS-1:0] pe_res_valid;
    wire [COLS-1:0] col_act_ready;
    wire [COLS-1:0] col_kw_ready;
    wire [COLS-1:0] col_res_valid;
    genvar r, c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : column
            wire [ROWS-1:0] act_ready_rows;
            wire [ROWS-1:0] kw_ready_rows;
            wire [ROWS-1:0] res_valid_rows;
            for (r = 0; r < ROWS; r = r + 1) begin : row
                assign act_ready_rows[r] = pe_act_ready[r*COLS+c];
                assign kw_ready_rows[r] = pe_kw_ready[r*COLS+c];
                assign res_valid_rows[r] = pe_res_valid[r*COLS+c];
            end
            assign col_act_ready[c] = &act_ready_rows;
            assign col_kw_ready[c] = &kw_ready_rows;
            assign col_res_valid[c] = &res_valid_rows;
        end
    endgenerate
    assign kw_ready_bus = col_kw_ready;
    assign out_valid_bus = col_res_valid;

    // An activation beat is taken when every masked column has a free bank.
    wire beat_ready = &(~act_mask[COLS-1:0] | col_act_ready);
    wire take_beat = act_valid & beat_ready;
    assign act_ready = beat_ready;
";
    if cols < 64 {
        v += &format!(
            "    /* verilator lint_off UNUSEDSIGNAL */\n    wire unused_act_mask = ^act_mask[63:{cols}];\n    /* verilator lint_on UNUSEDSIGNAL */\n"
        );
    }
    v += "\n    // The PE grid: PE k = r * COLS + c, its column's weight stream, its row's activations.\n";
    v += "    generate\n        for (r = 0; r < ROWS; r = r + 1) begin : pe_row\n";
    v += "            for (c = 0; c < COLS; c = c + 1) begin : pe_col\n";
    v += "                localparam k = r * COLS + c;\n";
    v += &format!("                {pe_name} pe (\n");
    let conns: Vec<String> = pe_ports
        .iter()
        .map(|p| {
            Ok(format!(
                "                    .{}({})",
                p.name,
                pe_connection(p, groups, cols, act_width)?
            ))
        })
        .collect::<Result<_>>()?;
    v += &conns.join(",\n");
    v += "\n                );\n            end\n        end\n    endgenerate\n";
    let accepted: Vec<String> = (0..cols)
        .map(|c| format!("{{31'd0, col_res_valid[{c}] & out_ready_bus[{c}]}}"))
        .collect();
    v += &format!(
        "
    // Cycle counter: cycle 0 is the start cycle; it stops once all results are out.
    wire [31:0] accepted = {};
    reg [31:0] count_q;
    reg [31:0] outs_q;
    reg running_q;
    initial begin
        count_q = 32'h0;
        outs_q = 32'h0;
        running_q = 1'b0;
    end
    wire finished = outs_q == expected;
    assign done = running_q & finished;
    assign cycles = count_q;
    always @(posedge clock) begin
        if (reset) begin
            running_q <= 1'b0;
            count_q <= 32'd0;
            outs_q <= 32'd0;
        end else if (start) begin
            count_q <= 32'd1;
            outs_q <= accepted;
            running_q <= 1'b1;
        end else if (running_q & ~finished) begin
            count_q <= count_q + 32'd1;
            outs_q <= outs_q + accepted;
        end
    end
endmodule // {top}
",
        accepted.join(" + ")
    );
    Ok(v)
}

/// The rows x cols on-chip kneading array (`SacArrayKnead`, src/hdl/array_knead.rs) from the
/// rust-hdl emission of its 1x1 version: the inner host-kneaded array becomes the generate
/// grid of [`scale_array`] (module `<top>_array`), and the top a `generate` row of kneading
/// units, one per column, feeding it (glue = `SacArrayKnead::update`).
pub fn scale_knead_array(
    one: Design,
    rows: usize,
    cols: usize,
    ks: usize,
    header: &Header,
) -> Result<Design> {
    let top = one.top.clone();
    let top_1x1 = module(&one.modules, &top)?.clone();
    let array_name = format!("{top}_array");
    let knead_name = top_1x1
        .children
        .iter()
        .find(|c| **c != array_name)
        .context("the 1x1 on-chip kneading top instantiates no kneading unit")?
        .clone();
    let knead_ports = parse_ports(&module(&one.modules, &knead_name)?.text, &knead_name)?;
    // The inner array: the same writer as for host-kneaded arrays, under the inner name.
    let mut inner = one.clone();
    inner.modules.retain(|m| m.name != top);
    inner.top = array_name.clone();
    let inner = scale_array(inner, rows, cols, ks, header)?;
    let array = inner.modules.last().expect("scale_array puts the top last");
    let array_ports = parse_ports(&array.text, &array_name)?;
    let groups = scale_groups(&parse_ports(&top_1x1.text, &top)?, rows, cols);
    let w_width = groups
        .iter()
        .find(|g| g.base == "w")
        .context("the on-chip kneading top has no w_* ports")?
        .width;
    let text = knead_top_text(
        &top,
        &knead_name,
        &array_name,
        &groups,
        &knead_ports,
        &array_ports,
        cols,
        ks,
        w_width,
        header,
    )?;
    let instances = 1 + cols * subtree_instances(&one.modules, &knead_name) + inner.instances;
    // The kneading unit and what it instantiates that the array does not share, first (the
    // 1x1 design lists children before parents).
    let knead_tree = below(&one.modules, &knead_name);
    let mut modules: Vec<Module> = one
        .modules
        .iter()
        .filter(|m| knead_tree.contains(&m.name) && !inner.modules.iter().any(|i| i.name == m.name))
        .cloned()
        .collect();
    modules.extend(inner.modules);
    modules.push(Module {
        name: top.clone(),
        text,
        children: vec![knead_name, array_name],
    });
    Ok(Design {
        top,
        modules,
        instances,
    })
}

/// The module called `name`.
fn module<'a>(modules: &'a [Module], name: &str) -> Result<&'a Module> {
    modules
        .iter()
        .find(|m| m.name == name)
        .with_context(|| format!("the 1x1 design has no module {name}"))
}

/// `name` and every module below it.
fn below(modules: &[Module], name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![name.to_string()];
    while let Some(n) = stack.pop() {
        if seen.insert(n.clone()) {
            if let Some(m) = modules.iter().find(|m| m.name == n) {
                stack.extend(m.children.iter().cloned());
            }
        }
    }
    seen
}

/// Module instances in the hierarchy below and including one instance of `name` (rust-hdl
/// modules: one `<child> <instance>(` line per instance).
fn subtree_instances(modules: &[Module], name: &str) -> usize {
    let Some(m) = modules.iter().find(|m| m.name == name) else {
        return 1;
    };
    1 + m
        .children
        .iter()
        .map(|c| {
            let uses = m
                .text
                .lines()
                .filter(|l| l.trim_start().starts_with(&format!("{c} ")))
                .count();
            uses * subtree_instances(modules, c)
        })
        .sum::<usize>()
}

/// Column stream fields between a kneading unit (`out_<f>`) and the array (`kw_<f>`).
fn kw_bus(field: &str) -> String {
    format!("kw_{field}_i")
}

#[allow(clippy::too_many_arguments)]
fn knead_top_text(
    top: &str,
    knead_name: &str,
    array_name: &str,
    groups: &[Group],
    knead_ports: &[Port],
    array_ports: &[Port],
    cols: usize,
    ks: usize,
    w_width: u32,
    header: &Header,
) -> Result<String> {
    let mut v = header_comment(
        top,
        header,
        &format!(
            "On-chip kneading top: a kneading unit per column ({knead_name}) feeding {array_name}."
        ),
    );
    // Only the raw weight streams are indexed by the column loop; the rest passes through.
    v += &ports_and_buses(
        top,
        groups,
        &format!("    localparam COLS = {cols};\n    localparam KS = {ks};\n"),
        &|base| base == "w" || base.starts_with("w_"),
    );
    // The column streams between the kneading units and the array, as buses.
    v += "\n    // Kneaded column streams: unit c drives the array's column c.\n";
    let mut fields = vec![];
    for p in knead_ports.iter().filter(|p| p.dir == Dir::Output) {
        let Some(f) = p.name.strip_prefix("out_") else {
            continue;
        };
        let (field, lane) = match split_index(f) {
            Some((field, _)) => (field, true),
            None => (f, false),
        };
        if !fields
            .iter()
            .any(|(x, _, _): &(String, bool, u32)| x == field)
        {
            fields.push((field.to_string(), lane, p.width));
        }
    }
    let lanes = knead_ports
        .iter()
        .filter(|p| p.name.starts_with("out_lane_valid_"))
        .count()
        .max(1);
    for (field, lane, width) in &fields {
        let n = if *lane { cols * lanes } else { cols };
        v += &format!("    wire [{}:0] {};\n", n as u32 * width - 1, kw_bus(field));
    }
    v += &format!("    wire [{}:0] {};\n", cols - 1, kw_bus("ready"));
    v += "    genvar c;\n    generate\n        for (c = 0; c < COLS; c = c + 1) begin : column\n";
    v += &format!("            {knead_name} knead (\n");
    let mut conns = vec![];
    for p in knead_ports {
        let expr = match p.name.as_str() {
            "clock" | "reset" => p.name.clone(),
            "in_valid" => "w_valid_bus[c]".into(),
            "in_last" => "w_last_bus[c]".into(),
            "in_ready" => "w_ready_bus[c]".into(),
            "in_skip" => "w_skip_bus[c]".into(),
            "out_ready" => format!("{}[c]", kw_bus("ready")),
            name => match (name.strip_prefix("out_"), split_index(name)) {
                (_, Some(("w", i))) => format!("w_bus[(c*KS+{i})*{w_width} +: {w_width}]"),
                (Some(f), _) => match split_index(f) {
                    Some((field, b)) => {
                        format!("{}[(c*{lanes}+{b})*{w} +: {w}]", kw_bus(field), w = p.width)
                    }
                    None => format!("{}[c*{w} +: {w}]", kw_bus(f), w = p.width),
                },
                _ => bail!("kneading unit port {name}: no rule connects it"),
            },
        };
        conns.push(format!("                .{}({expr})", p.name));
    }
    v += &conns.join(",\n");
    v += "\n            );\n        end\n    endgenerate\n\n";
    // The array: top ports of the same name, the kneaded streams from the buses.
    v += &format!("    {array_name} array (\n");
    let mut conns = vec![];
    for p in array_ports {
        let expr = match p.name.strip_prefix("kw_") {
            None => p.name.clone(),
            Some(f) => match split_index(f) {
                Some((field, j)) => slice(&kw_bus(field), j, p.width),
                None => bail!("array port kw_{f}: no rule connects it"),
            },
        };
        conns.push(format!("        .{}({expr})", p.name));
    }
    v += &conns.join(",\n");
    v += &format!("\n    );\nendmodule // {top}\n");
    Ok(v)
}
