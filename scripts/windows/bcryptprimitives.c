/* A stand-in for bcryptprimitives.dll's ProcessPrng, which Rust's std (1.78+) imports on
 * Windows and wine 8.0 lacks (rust-lang/rust#121337). Used only to run test programs under
 * wine; real Windows 10+ has the real DLL. */
#include <windows.h>

BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
