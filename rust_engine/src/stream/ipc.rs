//! Zero-copy reading of Arrow IPC files (memory-mapped) with the loader's fallback to
//! the IPC stream format when the `ARROW1` file magic is missing.

use std::fs::File;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::convert::try_fb_to_schema;
use arrow_ipc::reader::{read_footer_length, FileDecoder, StreamDecoder};
use arrow_ipc::{root_as_footer, Block};
use arrow_schema::{ArrowError, SchemaRef};

use super::{py_str_repr, StreamError};

const ARROW_MAGIC: &[u8; 6] = b"ARROW1";

/// Read every record batch of the Arrow IPC file (or IPC stream) at `path`.
///
/// The file is memory-mapped and decoded with [`FileDecoder`] over
/// [`Buffer::from_custom_allocation`], so aligned column buffers (pyarrow always aligns
/// them) are views of the mapping, which the batches keep alive. The file must not be
/// modified while the batches are alive. Like the Python loader, a file that does not
/// start with the `ARROW1` magic is read as an IPC stream.
///
/// # Errors
/// Any failure (I/O, truncated or malformed file, unsupported feature such as buffer
/// compression) is a `SchemaError` without row or field whose detail reads
/// `cannot read '<path>': <ErrorClass>: <message>`, modelled on the Python loader's
/// message; unlike validation messages it is not guaranteed to be identical.
pub fn read_ipc_file(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), StreamError> {
    let fail = |reason: String| {
        StreamError::schema(
            format!(
                "cannot read {}: {reason}",
                py_str_repr(&path.to_string_lossy())
            ),
            None,
        )
    };
    let buffer = map_file(path).map_err(|e| fail(io_error_text(&e, path)))?;
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        if buffer.len() >= ARROW_MAGIC.len() && buffer[..ARROW_MAGIC.len()] == ARROW_MAGIC[..] {
            decode_file(&buffer)
        } else {
            decode_stream(buffer.clone())
        }
    }));
    match decoded {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(fail(arrow_error_text(&e))),
        Err(_) => Err(fail("ArrowInvalid: malformed IPC data".to_owned())),
    }
}

/// The whole file as a [`Buffer`] over a read-only memory map.
fn map_file(path: &Path) -> io::Result<Buffer> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::from_raw_os_error(21)); // EISDIR, as Python's open() says
    }
    if meta.len() == 0 {
        return Ok(Buffer::from_vec(Vec::<u8>::new()));
    }
    // SAFETY: the mapping is read-only and private to this process; the caller must not
    // truncate or rewrite the file while batches over it are alive (documented above).
    let mmap = unsafe { memmap2::Mmap::map(&file)? };
    let len = mmap.len();
    let ptr = NonNull::new(mmap.as_ptr().cast_mut())
        .ok_or_else(|| io::Error::other("memory map returned a null pointer"))?;
    // SAFETY: `ptr..ptr+len` is the mapping, valid and immutable for as long as the
    // `Mmap` owner, which the buffer keeps alive, exists.
    Ok(unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(mmap)) })
}

/// The bytes of one footer block, bounds-checked.
fn block_bytes(buffer: &Buffer, block: &Block) -> Result<Buffer, ArrowError> {
    let range = usize::try_from(block.offset()).ok().and_then(|offset| {
        let meta = usize::try_from(block.metaDataLength()).ok()?;
        let body = usize::try_from(block.bodyLength()).ok()?;
        let len = meta.checked_add(body)?;
        (meta >= 8 && offset.checked_add(len)? <= buffer.len()).then_some((offset, len))
    });
    let (offset, len) = range.ok_or_else(|| {
        ArrowError::IpcError("Buffer of record batch or dictionary out of file bounds".to_owned())
    })?;
    Ok(buffer.slice_with_length(offset, len))
}

/// Decode the IPC file format: footer, schema, dictionaries, record batches.
fn decode_file(buffer: &Buffer) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let too_small = || ArrowError::IpcError("File is too small to be an Arrow file".to_owned());
    let trailer_start = buffer.len().checked_sub(10).ok_or_else(too_small)?;
    let trailer: [u8; 10] = buffer[trailer_start..]
        .try_into()
        .map_err(|_| too_small())?;
    let footer_len = read_footer_length(trailer)?;
    let footer_start = trailer_start
        .checked_sub(footer_len)
        .filter(|&start| start >= ARROW_MAGIC.len())
        .ok_or_else(|| ArrowError::IpcError("Invalid footer length".to_owned()))?;
    let footer = root_as_footer(&buffer[footer_start..trailer_start])
        .map_err(|e| ArrowError::ParseError(format!("Unable to get root as footer: {e:?}")))?;
    let ipc_schema = footer
        .schema()
        .ok_or_else(|| ArrowError::ParseError("Unable to get schema from IPC Footer".to_owned()))?;
    if !ipc_schema.endianness().equals_to_target_endianness() {
        return Err(ArrowError::IpcError(
            "the endianness of the source system does not match the target system".to_owned(),
        ));
    }
    let schema: SchemaRef = Arc::new(try_fb_to_schema(ipc_schema)?);
    let mut decoder = FileDecoder::new(Arc::clone(&schema), footer.version());
    for block in footer.dictionaries().iter().flatten() {
        decoder.read_dictionary(block, &block_bytes(buffer, block)?)?;
    }
    let blocks = footer.recordBatches().ok_or_else(|| {
        ArrowError::ParseError("Unable to get record batches from IPC Footer".to_owned())
    })?;
    let mut batches = Vec::with_capacity(blocks.len());
    for block in blocks {
        if let Some(batch) = decoder.read_record_batch(block, &block_bytes(buffer, block)?)? {
            batches.push(batch);
        }
    }
    Ok((schema, batches))
}

/// Decode the IPC stream format (stopping at the end-of-stream marker, like pyarrow).
fn decode_stream(mut buffer: Buffer) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while !buffer.is_empty() {
        match decoder.decode(&mut buffer) {
            Ok(Some(batch)) => batches.push(batch),
            Ok(None) => {}
            // Bytes after the end-of-stream marker: pyarrow never reads them.
            Err(ArrowError::IpcError(msg)) if msg == "Unexpected EOS" => break,
            Err(e) => return Err(e),
        }
    }
    decoder.finish()?;
    let schema = decoder.schema().ok_or_else(|| {
        ArrowError::InvalidArgumentError(
            "Tried reading schema message, was null or length 0".to_owned(),
        )
    })?;
    Ok((schema, batches))
}

/// `ErrorClass: message` for an Arrow error, in pyarrow's class vocabulary.
fn arrow_error_text(e: &ArrowError) -> String {
    let (class, message) = match e {
        ArrowError::NotYetImplemented(m) => ("ArrowNotImplementedError", m.clone()),
        ArrowError::IoError(m, _) => ("OSError", m.clone()),
        ArrowError::MemoryError(m) => ("ArrowMemoryError", m.clone()),
        other => ("ArrowInvalid", other.to_string()),
    };
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{class}: {one_line}")
}

/// Python's `OSError` text: `FileNotFoundError: [Errno 2] No such file or directory: '<path>'`.
fn io_error_text(e: &io::Error, path: &Path) -> String {
    let Some(code) = e.raw_os_error() else {
        return format!("OSError: {e}");
    };
    let class = match code {
        2 => "FileNotFoundError",
        1 | 13 => "PermissionError",
        21 => "IsADirectoryError",
        20 => "NotADirectoryError",
        _ => "OSError",
    };
    let text = e.to_string();
    let strerror = text
        .strip_suffix(&format!(" (os error {code})"))
        .unwrap_or(&text);
    format!(
        "{class}: [Errno {code}] {strerror}: {}",
        py_str_repr(&path.to_string_lossy())
    )
}
