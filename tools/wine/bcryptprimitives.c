/*
 * bcryptprimitives.dll for Wine 8.0: a one-function stand-in.
 *
 * Rust's standard library for Windows draws its random bytes (the keys of HashMap's
 * RandomState, for instance) from ProcessPrng in bcryptprimitives.dll and binds that
 * import when the program loads. Wine 8.0 ships no such DLL, so a Rust program built
 * for x86_64-pc-windows-gnu stops before main with exit code 53. Put the DLL built
 * from this file beside the .exe: Windows' loader (and Wine's) looks in the program's
 * own folder first.
 *
 * The bytes come from advapi32's RtlGenRandom, whose exported name is
 * SystemFunction036; Wine implements it on the host's random source.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            bcryptprimitives.c -ladvapi32
 * (tools/wine/run.sh does this.)
 */
#include <windows.h>

/* advapi32's RtlGenRandom, under the name it is exported as. */
__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * Fill `data` with `len` random bytes. Microsoft documents ProcessPrng as always
 * returning TRUE; this stand-in returns FALSE if advapi32 ever refuses, which Rust's
 * std does not read. RtlGenRandom takes a 32-bit length, so long requests go in
 * chunks.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
