//! The width of an expression: the width of its Rust type (rust-hdl's `Bits<N>` arithmetic
//! wraps at N bits). The writer emits every expression at exactly this width.

use super::{BinOp, Expr, Module, UnOp};

/// Width in bits of `e` in module `m` (0 for a name the module does not declare).
pub fn width_of(e: &Expr, m: &Module) -> u32 {
    match e {
        Expr::Ref(n) | Expr::Elem(n, _) => m.width_of(n).unwrap_or(0),
        Expr::Lit(w, _) => *w,
        Expr::Int(_) | Expr::GridRow | Expr::GridCol => 32,
        Expr::Unary(op, a) => match op {
            UnOp::Not | UnOp::Neg => width_of(a, m),
            UnOp::All | UnOp::Any | UnOp::Xor => 1,
        },
        Expr::Binary(op, a, b) => match op {
            BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor => operand_width(a, b, m),
            BinOp::Mul => width_of(a, m) + width_of(b, m),
            BinOp::Shl | BinOp::Shr => width_of(a, m),
            BinOp::LogicalAnd | BinOp::LogicalOr => 1,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 1,
        },
        Expr::Bit(..) => 1,
        Expr::Slice(_, w, _) | Expr::Resize(_, w) => *w,
        Expr::ReplaceBit(a, _, _) => width_of(a, m),
        Expr::Mux(_, a, b) => operand_width(a, b, m),
        Expr::Concat(v) => v.iter().map(|x| width_of(x, m)).sum(),
    }
}

/// The common width of two operands: an unsized integer takes the other operand's width.
pub fn operand_width(a: &Expr, b: &Expr, m: &Module) -> u32 {
    match (a, b) {
        (Expr::Int(_), x) | (x, Expr::Int(_)) => width_of(x, m),
        _ => width_of(a, m).max(width_of(b, m)),
    }
}

/// Bits needed to index `width` bits: ceil(log2(width)), at least 1.
pub fn index_bits(width: u32) -> u32 {
    (32 - width.saturating_sub(1).leading_zeros()).max(1)
}
