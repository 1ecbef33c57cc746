//! The Win32 calls the appender makes, each `unsafe` call wrapped in one small function that
//! owns its handle and turns failures into `io::Error`s.

use std::io;
use std::ptr;

use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, HANDLE};
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE, EVENTLOG_WARNING_TYPE,
    RegisterEventSourceW, ReportEventW,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_LOCAL_MACHINE, KEY_QUERY_VALUE, KEY_SET_VALUE, REG_DWORD, REG_EXPAND_SZ,
    REG_OPTION_NON_VOLATILE, RegCloseKey, RegCreateKeyExW, RegDeleteKeyW, RegOpenKeyExW,
    RegSetValueExW,
};

use super::message::EventType;

// The platform-independent codes in `EventType::code` are the Win32 ones.
const _: () = assert!(
    EventType::Error.code() == EVENTLOG_ERROR_TYPE
        && EventType::Warning.code() == EVENTLOG_WARNING_TYPE
        && EventType::Information.code() == EVENTLOG_INFORMATION_TYPE
);

/// A NUL-terminated UTF-16 copy of `s`.
pub(crate) fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// An event source handle from `RegisterEventSourceW`, closed on drop.
#[derive(Debug)]
pub(crate) struct EventSource(HANDLE);

// The handle is an RPC binding the Event Log API allows to be used from any thread.
unsafe impl Send for EventSource {}
unsafe impl Sync for EventSource {}

impl EventSource {
    /// Opens the local event source `name` (registered or not: an unregistered source logs to
    /// the Application log).
    pub(crate) fn open(name: &str) -> io::Result<EventSource> {
        let name = wide(name);
        // SAFETY: `name` is NUL-terminated and outlives the call; a null server means local.
        let handle = unsafe { RegisterEventSourceW(ptr::null(), name.as_ptr()) };
        if handle.is_null() {
            Err(io::Error::last_os_error())
        } else {
            Ok(EventSource(handle))
        }
    }

    /// Reports one event whose only insertion string is `message` (NUL-terminated UTF-16).
    pub(crate) fn report(
        &self,
        event_type: EventType,
        category: u16,
        event_id: u32,
        message: &[u16],
    ) -> io::Result<()> {
        debug_assert_eq!(message.last(), Some(&0));
        let strings = [message.as_ptr()];
        // SAFETY: the handle is open; `strings` holds one pointer to a NUL-terminated string,
        // both live across the call; no user SID and no raw data.
        let ok = unsafe {
            ReportEventW(
                self.0,
                event_type.code(),
                category,
                event_id,
                ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                ptr::null(),
            )
        };
        if ok == 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

impl Drop for EventSource {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegisterEventSourceW and is closed once, here.
        unsafe { DeregisterEventSource(self.0) };
    }
}

/// An open key under `HKEY_LOCAL_MACHINE`, closed on drop.
pub(crate) struct RegistryKey(HKEY);

fn win32_result(code: u32) -> io::Result<()> {
    if code == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code as i32))
    }
}

impl RegistryKey {
    /// Creates (or opens) `HKLM\<path>` for setting values. Needs administrator rights.
    pub(crate) fn create(path: &str) -> io::Result<RegistryKey> {
        let path = wide(path);
        let mut key: HKEY = ptr::null_mut();
        // SAFETY: `path` is NUL-terminated; `key` receives the handle; other pointers are null.
        let code = unsafe {
            RegCreateKeyExW(
                HKEY_LOCAL_MACHINE,
                path.as_ptr(),
                0,
                ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_SET_VALUE | KEY_QUERY_VALUE,
                ptr::null(),
                &mut key,
                ptr::null_mut(),
            )
        };
        win32_result(code).map(|()| RegistryKey(key))
    }

    /// Opens `HKLM\<path>` for reading; `None` when the key does not exist.
    pub(crate) fn open(path: &str) -> io::Result<Option<RegistryKey>> {
        let path = wide(path);
        let mut key: HKEY = ptr::null_mut();
        // SAFETY: `path` is NUL-terminated; `key` receives the handle.
        let code = unsafe {
            RegOpenKeyExW(
                HKEY_LOCAL_MACHINE,
                path.as_ptr(),
                0,
                KEY_QUERY_VALUE,
                &mut key,
            )
        };
        match code {
            ERROR_FILE_NOT_FOUND => Ok(None),
            code => win32_result(code).map(|()| Some(RegistryKey(key))),
        }
    }

    /// Deletes `HKLM\<path>` (a key without subkeys); false when it did not exist.
    pub(crate) fn delete(path: &str) -> io::Result<bool> {
        let path = wide(path);
        // SAFETY: `path` is NUL-terminated.
        match unsafe { RegDeleteKeyW(HKEY_LOCAL_MACHINE, path.as_ptr()) } {
            ERROR_FILE_NOT_FOUND => Ok(false),
            code => win32_result(code).map(|()| true),
        }
    }

    /// Sets a `REG_EXPAND_SZ` value (environment variables such as `%SystemRoot%` expand when
    /// read).
    pub(crate) fn set_expand_string(&self, name: &str, value: &str) -> io::Result<()> {
        let data = wide(value);
        let bytes: Vec<u8> = data.iter().flat_map(|u| u.to_le_bytes()).collect();
        self.set_value(name, REG_EXPAND_SZ, &bytes)
    }

    /// Sets a `REG_DWORD` value.
    pub(crate) fn set_dword(&self, name: &str, value: u32) -> io::Result<()> {
        self.set_value(name, REG_DWORD, &value.to_le_bytes())
    }

    fn set_value(&self, name: &str, kind: u32, bytes: &[u8]) -> io::Result<()> {
        let name = wide(name);
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "registry value too large"))?;
        // SAFETY: the key is open; `name` is NUL-terminated; `bytes` is `len` bytes long.
        let code = unsafe { RegSetValueExW(self.0, name.as_ptr(), 0, kind, bytes.as_ptr(), len) };
        win32_result(code)
    }
}

impl Drop for RegistryKey {
    fn drop(&mut self) {
        // SAFETY: the key came from RegCreateKeyExW/RegOpenKeyExW and is closed once, here.
        unsafe { RegCloseKey(self.0) };
    }
}
