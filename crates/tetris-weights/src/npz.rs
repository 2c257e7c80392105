//! NumPy `.npz` archives: a zip (stored or deflated entries, the `zip` crate) of `.npy` files
//! (`npy`, through npyz); each entry becomes one named array, in archive order, its name the
//! entry's without `.npy`.

use super::npy::{self, NpyArray};
use anyhow::{Context, Result};
use std::io::{Cursor, Read};

/// Largest entry read into memory (larger ones would be a hostile or broken archive here).
const MAX_ENTRY_BYTES: u64 = 1 << 34;

pub fn parse(bytes: &[u8]) -> Result<Vec<(String, NpyArray)>> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).context("not a readable .npz (zip) archive")?;
    let mut arrays = Vec::new();
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
        // The declared size only sizes the first allocation; reading is bounded either way.
        let mut buf = Vec::with_capacity(entry.size().min(1 << 26) as usize);
        (&mut entry)
            .take(MAX_ENTRY_BYTES)
            .read_to_end(&mut buf)
            .with_context(|| format!(".npz entry {entry_name:?}: corrupt or truncated data"))?;
        let arr = npy::parse(&buf).with_context(|| format!(".npz entry {entry_name:?}"))?;
        let name = entry_name
            .strip_suffix(".npy")
            .unwrap_or(&entry_name)
            .to_string();
        arrays.push((name, arr));
    }
    Ok(arrays)
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
