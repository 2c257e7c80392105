//! tetris-blocks-derive: `#[derive(BlockDefault)]` for the rust-hdl blocks of tetris-blocks.
//! Owns nothing but this macro; imports no tetris crate (it runs at compile time, below all).
//!
//! `#[derive(Default)]` cannot build a block whose ports are const-generic arrays
//! (`[Signal<In, Bit>; L]`: std implements `Default` for `[T; N]` only up to N = 32 and not
//! for a generic N), so every block used to spell out its `Default` field by field. This
//! derive writes that impl:
//!
//! - a field of array type is `std::array::from_fn(|_| Default::default())`;
//! - a field marked `#[init(EXPR)]` is `EXPR` (the block's constants: `Constant::new(..)`);
//! - any other field is `Default::default()`;
//! - each struct attribute `#[requires(COND)]` is asserted first, naming the block and the
//!   condition when the block's parameters break it.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{quote, ToTokens};
use syn::{parse_macro_input, Data, DeriveInput, Expr, Fields, Type};

#[proc_macro_derive(BlockDefault, attributes(init, requires))]
pub fn derive_block_default(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    block_default(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn block_default(input: &DeriveInput) -> syn::Result<Tokens> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                return Err(syn::Error::new_spanned(
                    input,
                    "BlockDefault needs named fields",
                ))
            }
        },
        _ => {
            return Err(syn::Error::new_spanned(
                input,
                "BlockDefault derives structs only",
            ))
        }
    };
    let name = &input.ident;
    let checks = input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("requires"))
        .map(|a| {
            let cond: Expr = a.parse_args()?;
            let message = format!("{name} requires {}", cond.to_token_stream());
            Ok(quote!(assert!(#cond, #message);))
        })
        .collect::<syn::Result<Vec<_>>>()?;
    let inits = fields
        .iter()
        .map(|f| {
            let field = &f.ident;
            let value = match f.attrs.iter().find(|a| a.path().is_ident("init")) {
                Some(a) => a.parse_args::<Expr>()?.into_token_stream(),
                None if matches!(f.ty, Type::Array(_)) => {
                    quote!(::std::array::from_fn(
                        |_| ::core::default::Default::default()
                    ))
                }
                None => quote!(::core::default::Default::default()),
            };
            Ok(quote!(#field: #value))
        })
        .collect::<syn::Result<Vec<_>>>()?;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::core::default::Default for #name #type_generics #where_clause {
            fn default() -> Self {
                #(#checks)*
                Self { #(#inits),* }
            }
        }
    })
}
