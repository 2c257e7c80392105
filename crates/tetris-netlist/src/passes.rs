//! Passes over the netlist, each with one job, in the order [`assemble`] runs them:
//! 1. [`resolve_clocks`]: a register's clock is the port its `child$clock` stub is assigned
//!    from (the stub and its assignment disappear);
//! 2. [`drop_overwritten`]: an assignment that a later one replaces whole before anything
//!    reads it goes (the `x = sum_0; ... x = sum_14;` an unrolled rust-hdl loop leaves);
//! 3. [`remove_aliases`]: a net assigned once, unconditionally, from another signal
//!    (`child$act = act`) is that signal (instances connect to it directly);
//! 4. [`ifs_to_case`]: a run of `if (s == k)` on one subject with distinct constants is one
//!    `case (s)` (rust-hdl has no dynamic index: `a[ptr]` is written as such a run);
//! 5. [`split_cones`]: a module's one combinational block becomes independent processes, one
//!    per group of targets that must stay together, so that no process both drives a
//!    sub-module input and reads a sub-module output (Verilator's UNOPTFLAT false loops);
//! 6. [`hoist`]: an expression Verilog cannot slice or index (a sum, a product) and that must
//!    be truncated or indexed is first assigned to a temporary of its own width;
//! 7. [`legal_names`]: `$` becomes `_`; a name that collides or is a reserved word is refused;
//! 8. merging identical modules and naming them `<top>_<block>` ([`assemble`]).

use super::width::width_of;
use super::{BinOp, Expr, LValue, Module, Net, Netlist, Process, Stmt};
use anyhow::{bail, Context, Result};
use num_bigint::BigUint;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tetris_core::config::is_verilog_keyword;

/// Run every pass on the modules read from rust-hdl (`(instance path, module)`, children
/// first, the root `top` last) and merge them into a netlist whose top is `top_name`.
pub fn assemble(raw: Vec<(String, Module)>, top_name: &str, doc: &[String]) -> Result<Netlist> {
    let instances = raw.len();
    let mut merged_name: HashMap<String, String> = HashMap::new();
    let mut by_key: HashMap<String, String> = HashMap::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut modules = vec![];
    for (path, mut m) in raw {
        let ctx = || format!("rust-hdl block {path}");
        for i in &mut m.instances {
            i.module = merged_name
                .get(&i.module)
                .with_context(|| format!("{}: child {} not emitted", ctx(), i.module))?
                .clone();
        }
        resolve_clocks(&mut m).with_context(ctx)?;
        drop_overwritten(&mut m);
        remove_aliases(&mut m);
        ifs_to_case(&mut m);
        split_cones(&mut m);
        hoist(&mut m);
        legal_names(&mut m).with_context(ctx)?;
        m.name = String::new();
        let key = serde_json::to_string(&m)?;
        if let Some(n) = by_key.get(&key) {
            merged_name.insert(path, n.clone());
            continue;
        }
        let base = if path == "top" {
            top_name.to_string()
        } else {
            format!("{top_name}_{}", readable_base(&path))
        };
        let mut name = base.clone();
        let mut k = 2;
        while taken.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        taken.insert(name.clone());
        m.name = name.clone();
        m.doc = doc.to_vec();
        m.doc.push(format!(
            "rust-hdl instance path of the first instance: {}",
            path.replace('$', ".")
        ));
        by_key.insert(key, name.clone());
        merged_name.insert(path, name);
        modules.push(m);
    }
    if modules.last().map(|m| m.name.as_str()) != Some(top_name) {
        bail!("the rust-hdl design has no root block `top`");
    }
    Ok(Netlist {
        top: top_name.to_string(),
        modules,
        instances,
    })
}

/// The last path segment that is not an array index: `top$sac_core$seg_lane$3` -> `seg_lane`.
fn readable_base(path: &str) -> String {
    path.split('$')
        .rev()
        .find(|s| !s.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or("block")
        .to_string()
}

/// All combinational statements of a module read from rust-hdl (one block before splitting).
fn body_mut(m: &mut Module) -> Option<&mut Vec<Stmt>> {
    m.comb.first_mut().map(|p| &mut p.body)
}

/// Registers read from rust-hdl's DFF have a clock stub `child$clock` that the body assigns
/// from a clock port (`seg$clock = clock;`). The register takes that port; stub and
/// assignment go.
pub fn resolve_clocks(m: &mut Module) -> Result<()> {
    for i in 0..m.regs.len() {
        let stub = m.regs[i].clock.clone();
        if m.port(&stub).is_some() {
            continue;
        }
        let body =
            body_mut(m).with_context(|| format!("register clock {stub} is never assigned"))?;
        let pos = body
            .iter()
            .position(|s| matches!(s, Stmt::Assign(LValue::Net(n), Expr::Ref(_)) if *n == stub))
            .with_context(|| {
                format!("register clock {stub} is not assigned from a port at the top level")
            })?;
        let Stmt::Assign(_, Expr::Ref(src)) = body.remove(pos) else {
            unreachable!()
        };
        if m.port(&src).is_none() {
            bail!("register clock {stub} is assigned from {src}, which is not a port");
        }
        m.nets.retain(|n| n.name != stub);
        m.regs[i].clock = src;
    }
    Ok(())
}

/// Drop every top-level assignment `x = e` whose net the next statement touching `x`
/// assigns whole, unconditionally, without reading it: that value is never seen. rust-hdl
/// unrolls `for b in 0..L { total.next = sum[b].val() }` (how the SAC PE takes the last
/// element of a const-generic array) into L assignments of which the last counts.
pub fn drop_overwritten(m: &mut Module) {
    let Some(body) = body_mut(m) else { return };
    // Walking backwards: the nets whose next touch, after the current statement, is a whole
    // overwrite that does not read them.
    let mut overwritten: BTreeSet<String> = BTreeSet::new();
    let mut dead = vec![false; body.len()];
    for (i, s) in body.iter().enumerate().rev() {
        if let Stmt::Assign(LValue::Net(x), _) = s {
            if overwritten.contains(x) {
                dead[i] = true;
                continue;
            }
        }
        let (mut r, mut w) = (vec![], vec![]);
        s.reads(&mut r);
        s.writes(&mut w);
        for n in r.iter().chain(&w) {
            overwritten.remove(n);
        }
        if let Stmt::Assign(LValue::Net(x), _) = s {
            if !r.contains(x) {
                overwritten.insert(x.clone());
            }
        }
    }
    let mut dead = dead.into_iter();
    body.retain(|_| !dead.next().unwrap_or(false));
}

/// Position of the last top-level statement that writes `name`.
fn last_write(body: &[Stmt], name: &str) -> Option<usize> {
    body.iter().rposition(|s| {
        let mut w = vec![];
        s.writes(&mut w);
        w.iter().any(|x| x == name)
    })
}

/// A net assigned exactly once, at the top level, from a plain signal that is not written
/// after that point, is the same signal: every use is renamed to it and the net disappears.
pub fn remove_aliases(m: &mut Module) {
    loop {
        let Some(body) = m.comb.first() else { return };
        let body = &body.body;
        let mut writes = BTreeMap::<String, usize>::new();
        for s in body {
            let mut w = vec![];
            s.writes(&mut w);
            for n in w {
                *writes.entry(n).or_default() += 1;
            }
        }
        let found = body.iter().enumerate().find_map(|(pos, s)| match s {
            Stmt::Assign(LValue::Net(n), Expr::Ref(src))
                if writes.get(n) == Some(&1)
                    && m.nets
                        .iter()
                        .any(|x| x.name == *n && Some(x.width) == m.width_of(src))
                    && last_write(body, src).is_none_or(|w| w < pos) =>
            {
                Some((pos, n.clone(), src.clone()))
            }
            _ => None,
        });
        let Some((pos, alias, src)) = found else {
            return;
        };
        m.comb[0].body.remove(pos);
        m.nets.retain(|n| n.name != alias);
        rename_everywhere(m, &|n: &str| (n == alias).then(|| src.clone()));
    }
}

/// Rename references in every statement, instance connection and register of `m`.
pub fn rename_everywhere(m: &mut Module, f: &dyn Fn(&str) -> Option<String>) {
    for p in &mut m.comb {
        p.body.iter_mut().for_each(|s| s.rename(f));
        for t in &mut p.targets {
            if let Some(n) = f(t) {
                *t = n;
            }
        }
    }
    for i in &mut m.instances {
        i.conns.iter_mut().for_each(|(_, e)| e.rename(f));
    }
    for g in &mut m.grids {
        g.instance.conns.iter_mut().for_each(|(_, e)| e.rename(f));
    }
    for r in &mut m.regs {
        for n in [&mut r.q, &mut r.d, &mut r.clock] {
            if let Some(x) = f(n) {
                *n = x;
            }
        }
    }
}

/// Every run of two or more `if (s == k) ..` (no else) on one subject `s`, with distinct
/// constants `k` and no branch writing what `s` reads, becomes one `case (s)`: at most one
/// branch of such a run is taken, so their order does not matter. An assignment `y = d` just
/// before the run becomes the default arm when every branch only assigns `y` (`take_default`).
/// This is how rust-hdl code without a dynamic index selects an element: `for i in 0..KS { if
/// ptr == i { a = act[i] } }` (the MAC PE's activation select).
pub fn ifs_to_case(m: &mut Module) {
    let Some(body) = body_mut(m).map(std::mem::take) else {
        return;
    };
    let body = case_runs(body, m);
    if let Some(b) = body_mut(m) {
        *b = body;
    }
}

fn case_runs(body: Vec<Stmt>, m: &Module) -> Vec<Stmt> {
    let body: Vec<Stmt> = body
        .into_iter()
        .map(|s| match s {
            Stmt::If(c, a, b) => Stmt::If(c, case_runs(a, m), case_runs(b, m)),
            Stmt::Case(x, arms, d) => Stmt::Case(
                x,
                arms.into_iter()
                    .map(|(l, b)| (l, case_runs(b, m)))
                    .collect(),
                case_runs(d, m),
            ),
            assign => assign,
        })
        .collect();
    let mut out = vec![];
    let mut i = 0;
    while i < body.len() {
        let Some((subject, ..)) = selection(&body[i]) else {
            out.push(body[i].clone());
            i += 1;
            continue;
        };
        let mut reads = vec![];
        subject.reads(&mut reads);
        let mut arms: Vec<(Vec<Expr>, Vec<Stmt>)> = vec![];
        let mut labels: Vec<BigUint> = vec![];
        while let Some((s, label, value, then)) = body.get(i + arms.len()).and_then(selection) {
            let mut writes = vec![];
            then.iter().for_each(|t| t.writes(&mut writes));
            // A label wider than the subject would be cut to its width in a case.
            let fits = value.bits() <= u64::from(width_of(s, m));
            if s != subject
                || !fits
                || labels.contains(&value)
                || writes.iter().any(|w| reads.contains(w))
            {
                break;
            }
            labels.push(value);
            arms.push((vec![label.clone()], then.clone()));
        }
        if arms.len() < 2 {
            out.push(body[i].clone());
            i += 1;
            continue;
        }
        i += arms.len();
        let default = take_default(&mut out, &arms, &reads);
        out.push(Stmt::Case(subject.clone(), arms, default));
    }
    out
}

/// The default arm of a case made of `arms`: the assignment `y = d` just before it (popped
/// from `before`) when every arm is one assignment `y = e` and neither the subject (which
/// reads `subject_reads`) nor any `e` reads `y`: then `y = d` counts exactly when no arm is
/// taken. Otherwise empty.
fn take_default(
    before: &mut Vec<Stmt>,
    arms: &[(Vec<Expr>, Vec<Stmt>)],
    subject_reads: &[String],
) -> Vec<Stmt> {
    let Some(last @ Stmt::Assign(LValue::Net(y), _)) = before.last() else {
        return vec![];
    };
    let only_y = |body: &[Stmt]| match body {
        [s @ Stmt::Assign(LValue::Net(x), _)] => {
            let mut r = vec![];
            s.reads(&mut r);
            x == y && !r.contains(y)
        }
        _ => false,
    };
    let mut d_reads = vec![];
    last.reads(&mut d_reads);
    if arms.iter().all(|(_, b)| only_y(b)) && !subject_reads.contains(y) && !d_reads.contains(y) {
        before.pop().into_iter().collect()
    } else {
        vec![]
    }
}

/// `if (s == k) then` without an else, `k` a constant: (s, k, k's value, then).
fn selection(s: &Stmt) -> Option<(&Expr, &Expr, BigUint, &Vec<Stmt>)> {
    let Stmt::If(Expr::Binary(BinOp::Eq, subject, label), then, other) = s else {
        return None;
    };
    let value = match &**label {
        Expr::Lit(_, v) => v.clone(),
        Expr::Int(k) => BigUint::from(u64::try_from(*k).ok()?),
        _ => return None,
    };
    other
        .is_empty()
        .then_some((&**subject, &**label, value, then))
}

/// Split the one combinational block into processes. Targets stay in one process when a
/// statement reads one of them before its last assignment (it sees an intermediate value, so
/// the order of the statements matters); every other read sees the final value and may come
/// from another process. Each process is the block projected onto its targets.
pub fn split_cones(m: &mut Module) {
    let Some(block) = m.comb.first().cloned() else {
        return;
    };
    let body = block.body;
    let mut targets: Vec<String> = vec![];
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in body.iter().enumerate() {
        let mut w = vec![];
        s.writes(&mut w);
        for n in w {
            if !targets.contains(&n) {
                targets.push(n.clone());
            }
            last.insert(n, i);
        }
    }
    let index: HashMap<&str, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut parent: Vec<usize> = (0..targets.len()).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        p[x] = r;
        r
    }
    for (j, s) in body.iter().enumerate() {
        let (mut r, mut w) = (vec![], vec![]);
        s.reads(&mut r);
        s.writes(&mut w);
        // A statement's own targets stay together (one `if` assigning two nets).
        for pair in w.windows(2) {
            let (a, b) = (
                find(&mut parent, index[pair[0].as_str()]),
                index[pair[1].as_str()],
            );
            let b = find(&mut parent, b);
            parent[a] = b;
        }
        for x in r {
            let Some(&xi) = index.get(x.as_str()) else {
                continue;
            };
            if j <= last[&x] {
                for y in &w {
                    let (a, b) = (find(&mut parent, xi), find(&mut parent, index[y.as_str()]));
                    parent[a] = b;
                }
            }
        }
    }
    let mut groups: Vec<(usize, Vec<String>)> = vec![];
    for (i, t) in targets.iter().enumerate() {
        let root = find(&mut parent, i);
        match groups.iter_mut().find(|g| g.0 == root) {
            Some(g) => g.1.push(t.clone()),
            None => groups.push((root, vec![t.clone()])),
        }
    }
    m.comb = groups
        .into_iter()
        .map(|(_, ts)| {
            let set: BTreeSet<&str> = ts.iter().map(String::as_str).collect();
            Process {
                body: project(&body, &set),
                targets: ts,
            }
        })
        .collect();
}

/// The statements that assign `keep`, with the conditions around them.
fn project(body: &[Stmt], keep: &BTreeSet<&str>) -> Vec<Stmt> {
    let mut out = vec![];
    for s in body {
        match s {
            Stmt::Assign(lv, _) => {
                if keep.contains(lv.net()) {
                    out.push(s.clone());
                }
            }
            Stmt::If(c, a, b) => {
                let (a, b) = (project(a, keep), project(b, keep));
                if !a.is_empty() || !b.is_empty() {
                    out.push(Stmt::If(c.clone(), a, b));
                }
            }
            Stmt::Case(subject, arms, default) => {
                let arms: Vec<_> = arms
                    .iter()
                    .map(|(l, b)| (l.clone(), project(b, keep)))
                    .collect();
                let default = project(default, keep);
                if !default.is_empty() || arms.iter().any(|a| !a.1.is_empty()) {
                    out.push(Stmt::Case(subject.clone(), arms, default));
                }
            }
        }
    }
    out
}

/// Expressions that must be sliced or indexed but are not names (`(a + b)[3]`, a sum
/// truncated by `bit_cast`) are first assigned, in place, to a temporary of their own width.
pub fn hoist(m: &mut Module) {
    let mut comb = std::mem::take(&mut m.comb);
    let mut sp = Spill::default();
    for p in &mut comb {
        p.body = hoist_block(std::mem::take(&mut p.body), m, &mut sp);
        p.targets.append(&mut sp.added);
    }
    m.comb = comb;
}

/// Temporaries made so far (counter) and the names the current process gained (added).
#[derive(Default)]
struct Spill {
    counter: usize,
    added: Vec<String>,
}

fn hoist_block(body: Vec<Stmt>, m: &mut Module, sp: &mut Spill) -> Vec<Stmt> {
    let mut out = vec![];
    for s in body {
        let mut pre = vec![];
        let s = match s {
            Stmt::Assign(lv, mut e) => {
                let lv = match lv {
                    LValue::Slice(n, w, mut off) => {
                        hoist_expr(&mut off, m, sp, &mut pre);
                        LValue::Slice(n, w, off)
                    }
                    lv => lv,
                };
                hoist_expr(&mut e, m, sp, &mut pre);
                // The assignment itself truncates to its target: the value must be sliceable.
                let target_w = match &lv {
                    LValue::Slice(_, w, _) => *w,
                    LValue::Net(n) => m.width_of(n).unwrap_or(0),
                };
                if width_of(&e, m) > target_w && !sliceable(&e) {
                    e = spill(e, m, sp, &mut pre);
                }
                Stmt::Assign(lv, e)
            }
            Stmt::If(mut c, a, b) => {
                hoist_expr(&mut c, m, sp, &mut pre);
                let a = hoist_block(a, m, sp);
                Stmt::If(c, a, hoist_block(b, m, sp))
            }
            Stmt::Case(mut subject, arms, default) => {
                hoist_expr(&mut subject, m, sp, &mut pre);
                let arms = arms
                    .into_iter()
                    .map(|(l, b)| (l, hoist_block(b, m, sp)))
                    .collect();
                let default = hoist_block(default, m, sp);
                Stmt::Case(subject, arms, default)
            }
        };
        out.extend(pre);
        out.push(s);
    }
    out
}

/// Names, array elements and literals can be sliced in Verilog; anything else is spilled.
fn sliceable(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Ref(_) | Expr::Elem(..) | Expr::Lit(..) | Expr::Int(_)
    )
}

fn spill(e: Expr, m: &mut Module, sp: &mut Spill, pre: &mut Vec<Stmt>) -> Expr {
    let name = loop {
        sp.counter += 1;
        let n = format!("tmp{}", sp.counter);
        if m.width_of(&n).is_none() {
            break n;
        }
    };
    let width = width_of(&e, m);
    m.nets.push(Net {
        name: name.clone(),
        width,
    });
    sp.added.push(name.clone());
    pre.push(Stmt::Assign(LValue::Net(name.clone()), e));
    Expr::Ref(name)
}

fn hoist_expr(e: &mut Expr, m: &mut Module, sp: &mut Spill, pre: &mut Vec<Stmt>) {
    match e {
        Expr::Unary(_, a) => hoist_expr(a, m, sp, pre),
        Expr::Binary(_, a, b) => {
            hoist_expr(a, m, sp, pre);
            hoist_expr(b, m, sp, pre);
        }
        Expr::Mux(a, b, c) | Expr::ReplaceBit(a, b, c) => {
            hoist_expr(a, m, sp, pre);
            hoist_expr(b, m, sp, pre);
            hoist_expr(c, m, sp, pre);
        }
        Expr::Concat(v) => v.iter_mut().for_each(|x| hoist_expr(x, m, sp, pre)),
        Expr::Elem(_, i) => hoist_expr(i, m, sp, pre),
        Expr::Bit(a, i) | Expr::Slice(a, _, i) => {
            hoist_expr(a, m, sp, pre);
            hoist_expr(i, m, sp, pre);
            if !sliceable(a) {
                let inner = std::mem::replace(&mut **a, Expr::Int(0));
                **a = spill(inner, m, sp, pre);
            }
        }
        Expr::Resize(a, w) => {
            hoist_expr(a, m, sp, pre);
            if width_of(a, m) > *w && !sliceable(a) {
                let inner = std::mem::replace(&mut **a, Expr::Int(0));
                **a = spill(inner, m, sp, pre);
            }
        }
        Expr::Ref(_) | Expr::Lit(..) | Expr::Int(_) | Expr::GridRow | Expr::GridCol => {}
    }
}

/// `$` in rust-hdl names becomes `_`; two names that become one, or a reserved word, are refused.
pub fn legal_names(m: &mut Module) -> Result<()> {
    let mut names: Vec<String> = vec![];
    names.extend(m.ports.iter().map(|p| p.name.clone()));
    names.extend(m.consts.iter().map(|c| c.name.clone()));
    names.extend(m.nets.iter().map(|n| n.name.clone()));
    names.extend(m.arrays.iter().map(|n| n.name.clone()));
    names.extend(m.regs.iter().map(|r| r.q.clone()));
    names.extend(m.instances.iter().map(|i| i.name.clone()));
    let mut seen: HashMap<String, String> = HashMap::new();
    for n in &names {
        let clean = n.replace('$', "_");
        if is_verilog_keyword(&clean) {
            bail!("signal `{n}` is a Verilog keyword; rename the Rust field");
        }
        if let Some(other) = seen.insert(clean.clone(), n.clone()) {
            if other != *n {
                bail!("signals `{other}` and `{n}` both become `{clean}` once `$` is replaced");
            }
            bail!("`{n}` is declared twice");
        }
    }
    let f = |n: &str| n.contains('$').then(|| n.replace('$', "_"));
    rename_everywhere(m, &f);
    for p in &mut m.ports {
        p.name = p.name.replace('$', "_");
    }
    for c in &mut m.consts {
        c.name = c.name.replace('$', "_");
    }
    for n in &mut m.nets {
        n.name = n.name.replace('$', "_");
    }
    for i in &mut m.instances {
        i.name = i.name.replace('$', "_");
        for (p, _) in &mut i.conns {
            *p = p.replace('$', "_");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dir, Port};

    fn module_with(nets: &[&str]) -> Module {
        let mut m = Module::new("m");
        m.ports.push(Port::new("a_b", Dir::In, 1));
        for n in nets {
            m.nets.push(Net {
                name: n.to_string(),
                width: 1,
            });
        }
        m
    }

    #[test]
    fn names_that_collide_or_are_keywords_are_refused() {
        let e = legal_names(&mut module_with(&["a$b"])).unwrap_err();
        assert!(e.to_string().contains("a_b"), "{e}");
        let e = legal_names(&mut module_with(&["release"])).unwrap_err();
        assert!(e.to_string().contains("keyword"), "{e}");
        let mut ok = module_with(&["x$y"]);
        legal_names(&mut ok).unwrap();
        assert_eq!(ok.nets[0].name, "x_y");
    }

    #[test]
    fn a_cone_reading_an_intermediate_value_stays_whole() {
        use crate::{Expr, Stmt};
        let set = |t: &str, e: Expr| Stmt::Assign(LValue::Net(t.into()), e);
        let mut m = module_with(&["x", "y", "z"]);
        // y reads x between its two assignments: x and y stay one process; z is alone.
        m.comb.push(Process {
            targets: vec![],
            body: vec![
                set("x", Expr::r("a_b")),
                set("y", Expr::r("x")),
                set("x", Expr::invert(Expr::r("a_b"))),
                set("z", Expr::r("x")),
            ],
        });
        split_cones(&mut m);
        let groups: Vec<Vec<String>> = m.comb.iter().map(|p| p.targets.clone()).collect();
        assert_eq!(
            groups,
            vec![vec!["x".to_string(), "y".into()], vec!["z".into()]]
        );
    }

    #[test]
    fn only_assignments_replaced_before_any_read_are_dropped() {
        use crate::{Expr, Stmt};
        let set = |t: &str, e: Expr| Stmt::Assign(LValue::Net(t.into()), e);
        let run = |body: Vec<Stmt>| {
            let mut m = module_with(&["x", "y"]);
            m.comb.push(Process {
                targets: vec![],
                body,
            });
            drop_overwritten(&mut m);
            m.comb.remove(0).body
        };
        let (a, b) = (Expr::r("a_b"), Expr::invert(Expr::r("a_b")));
        // Replaced whole before a read: only the last one stays.
        let last = set("x", Expr::r("y"));
        assert_eq!(
            run(vec![set("x", a.clone()), set("x", b.clone()), last.clone()]),
            vec![last.clone()]
        );
        // Read in between, replaced only under a condition, read by its replacement, or
        // replaced in part: every assignment is seen.
        let kept = [
            vec![
                set("x", a.clone()),
                set("y", Expr::r("x")),
                set("x", b.clone()),
            ],
            vec![
                set("x", a.clone()),
                Stmt::If(a.clone(), vec![set("x", b.clone())], vec![]),
            ],
            vec![set("x", a.clone()), set("x", Expr::invert(Expr::r("x")))],
            vec![
                set("x", a.clone()),
                Stmt::Assign(LValue::Slice("x".into(), 1, Expr::lit(1, 0)), b.clone()),
            ],
        ];
        for body in kept {
            assert_eq!(run(body.clone()), body);
        }
    }

    #[test]
    fn a_run_of_selections_becomes_one_case_that_computes_the_same() {
        use crate::eval::Eval;
        use crate::{Dir, Expr, Port, Stmt};
        let set = |t: &str, e: Expr| Stmt::Assign(LValue::Net(t.into()), e);
        let pick = |k: u64, then: Vec<Stmt>| {
            Stmt::If(
                Expr::bin(BinOp::Eq, Expr::r("p"), Expr::lit(2, k)),
                then,
                vec![],
            )
        };
        let module = |body: Vec<Stmt>| {
            let mut m = Module::new("m");
            m.ports.push(Port::new("p", Dir::In, 2));
            for a in ["a0", "a1", "a2", "a3"] {
                m.ports.push(Port::new(a, Dir::In, 4));
            }
            m.ports.push(Port::new("y", Dir::Out, 4));
            m.comb.push(Process {
                targets: vec!["y".into()],
                body,
            });
            m
        };
        // y = 0, then one `if (p == k) y = a_k` for k = 0, 1, 3: one case of three arms and
        // a default.
        let select: Vec<Stmt> = [0u64, 1, 3]
            .iter()
            .map(|&k| pick(k, vec![set("y", Expr::r(format!("a{k}")))]))
            .collect();
        let before = module([vec![set("y", Expr::lit(4, 0))], select.clone()].concat());
        let mut after = before.clone();
        ifs_to_case(&mut after);
        let body = &after.comb[0].body;
        // `y = 0` before the run counts exactly when no arm is taken: it is the default arm.
        let [Stmt::Case(subject, arms, default)] = &body[..] else {
            panic!("not one case: {body:?}")
        };
        assert_eq!((subject, arms.len()), (&Expr::r("p"), 3));
        assert_eq!(default, &vec![set("y", Expr::lit(4, 0))]);
        // Every input value gives the same output before and after.
        let (mut x, mut y) = (Eval::new(&before).unwrap(), Eval::new(&after).unwrap());
        for p in 0..4u128 {
            for e in [&mut x, &mut y] {
                e.set(e.slot("p").unwrap(), p);
                for k in 0..4 {
                    e.set(e.slot(&format!("a{k}")).unwrap(), 5 + k as u128);
                }
                e.settle();
            }
            assert_eq!(x.get(x.slot("y").unwrap()), y.get(y.slot("y").unwrap()));
        }
        // An arm that reads y sees `y = 0`: that assignment stays before the case.
        let reads_y = pick(
            1,
            vec![set("y", Expr::bin(BinOp::And, Expr::r("y"), Expr::r("a1")))],
        );
        let mut m = module(vec![set("y", Expr::lit(4, 0)), select[0].clone(), reads_y]);
        ifs_to_case(&mut m);
        let body = &m.comb[0].body;
        assert!(
            matches!(&body[..], [Stmt::Assign(..), Stmt::Case(_, arms, d)] if arms.len() == 2 && d.is_empty()),
            "{body:?}"
        );
        // Not one case: a repeated label (both run, the last wins), a label wider than the
        // subject, a branch that changes the subject, an else, or a lone selection.
        let writes_p = pick(1, vec![set("p", Expr::lit(2, 0))]);
        let with_else = Stmt::If(
            Expr::bin(BinOp::Eq, Expr::r("p"), Expr::lit(2, 1)),
            vec![set("y", Expr::r("a1"))],
            vec![set("y", Expr::r("a2"))],
        );
        // A 3-bit label 4 never equals the 2-bit p, but cut to p's width it would be 0.
        let too_wide = Stmt::If(
            Expr::bin(BinOp::Eq, Expr::r("p"), Expr::lit(3, 4)),
            vec![set("y", Expr::r("a2"))],
            vec![],
        );
        let kept = [
            vec![select[0].clone(), select[0].clone()],
            vec![select[1].clone(), too_wide],
            vec![select[0].clone(), writes_p],
            vec![select[0].clone(), with_else],
            vec![select[0].clone()],
        ];
        for body in kept {
            let mut m = module(body.clone());
            ifs_to_case(&mut m);
            assert_eq!(m.comb[0].body, body);
        }
    }
}
