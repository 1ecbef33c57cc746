//! One encoded line, written with one `write_all`: the per-thread scratch buffer both encoders
//! render into, so that encoding allocates nothing once the buffer has grown to a line's size.

use std::cell::RefCell;

use log4rs::encode::Write;

/// Lines longer than this do not keep their buffer alive on the thread afterwards.
const MAX_KEPT_BUFFER: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Renders a line with `render` into the thread's scratch buffer, appends the newline and hands
/// the whole line to `w` in one `write_all`. Re-entered (a key-value's `Display` logged while
/// the line was being rendered) or during thread teardown, it uses a buffer of its own.
pub(crate) fn write_line(w: &mut dyn Write, render: impl Fn(&mut Vec<u8>)) -> std::io::Result<()> {
    let write = |buf: &mut Vec<u8>, w: &mut dyn Write| {
        buf.clear();
        render(buf);
        buf.push(b'\n');
        w.write_all(buf)
    };
    let result = SCRATCH
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                let result = write(&mut buf, w);
                if buf.capacity() > MAX_KEPT_BUFFER {
                    *buf = Vec::new();
                }
                Some(result)
            }
            Err(_) => None,
        })
        .ok()
        .flatten();
    match result {
        Some(r) => r,
        None => write(&mut Vec::new(), w),
    }
}
