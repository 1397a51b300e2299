//! PLACEHOLDER until the wire branch merges.
/// Pointer layout.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PointerSize {
    /// 8-byte pointers.
    Bits64,
    /// 4-byte pointers.
    Bits32,
}
impl PointerSize {
    /// Bytes.
    pub fn bytes(self) -> usize {
        match self {
            PointerSize::Bits64 => 8,
            PointerSize::Bits32 => 4,
        }
    }
}
/// Reads a u32.
pub fn read_u32(b: &[u8]) -> Option<u32> {
    b.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
