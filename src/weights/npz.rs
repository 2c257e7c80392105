//! NumPy `.npz` reader: a zip archive (stored or deflated entries) of `.npy` files; each
//! entry becomes one layer named after the entry (without `.npy`), in archive order.

use super::{npy, Layer};
use anyhow::{Context, Result};
use std::io::{Cursor, Read};

pub fn parse(bytes: &[u8]) -> Result<Vec<Layer>> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).context("not a readable .npz (zip) archive")?;
    let mut layers = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .with_context(|| format!("cannot open .npz entry #{i}"))?;
        if entry.is_dir() {
            continue;
        }
        let entry_name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let mut buf = Vec::with_capacity(entry.size().min(1 << 26) as usize);
        entry
            .read_to_end(&mut buf)
            .with_context(|| format!(".npz entry {entry_name:?}: corrupt or truncated data"))?;
        let arr = npy::parse(&buf).with_context(|| format!(".npz entry {entry_name:?}"))?;
        let name = entry_name
            .strip_suffix(".npy")
            .unwrap_or(&entry_name)
            .to_string();
        layers.push(arr.into_layer(name));
    }
    Ok(layers)
}

/// A `.npz` archive (stored entries) of float32 arrays: (entry name without `.npy`, shape,
/// C-order data). Entries keep the given order, which [`parse`] returns them in.
pub fn write_f32(entries: &[(String, Vec<usize>, Vec<f32>)]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape, data) in entries {
        z.start_file(format!("{name}.npy"), opts)
            .with_context(|| format!(".npz entry {name:?}"))?;
        z.write_all(&npy::write_f32(shape, data))
            .with_context(|| format!(".npz entry {name:?}"))?;
    }
    Ok(z.finish()
        .context("cannot finish the .npz archive")?
        .into_inner())
}
