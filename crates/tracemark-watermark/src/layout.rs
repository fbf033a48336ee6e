//! The time-frequency grid that carries the mark, and the keyed role of every cell in it.
//!
//! The grid is fixed in seconds and hertz, not in samples, so that a copy resampled to
//! any rate (a phone line at 8 kHz, a 48 kHz video track) keeps it: frames of 40 ms with a
//! 20 ms hop (so bins 25 Hz apart), the band 300-3400 Hz of the telephone channel (ITU-T
//! G.712 pass band), pairs of consecutive frames that carry opposite signs, and a block of
//! 200 pairs (8 s) after which the pattern repeats, so any 8 s of audio holds every cell.

use crate::key::WatermarkKey;

/// Frame length: 40 ms, so that bins fall every 25 Hz at every sample rate divisible by 25.
pub const FRAME_S: f64 = 0.040;
/// Bin spacing in Hz (1 / [`FRAME_S`]).
pub const BIN_HZ: f64 = 25.0;
/// First marked bin: 300 Hz, the lower edge of the telephone band (ITU-T G.712).
pub const BAND_LO: usize = 12;
/// Last marked bin: 3400 Hz, the upper edge of the telephone band (ITU-T G.712).
pub const BAND_HI: usize = 136;
/// Marked bins per frame.
pub const BAND_BINS: usize = BAND_HI - BAND_LO + 1;
/// Pairs of frames per repeating block: 200 pairs of 40 ms = 8 s.
pub const BLOCK_PAIRS: usize = 200;
/// Pairs per symbol slot of the caller's codeword layer: 80 ms, 12.5 symbols a second.
pub const SLOT_PAIRS: usize = 2;
/// Payload bits carried by the blind layer.
pub const PAYLOAD_BITS: usize = 64;
/// CRC bits appended to the payload.
pub const CRC_BITS: usize = 24;

/// Share of cells given to the known sync pattern (presence test and alignment).
const SYNC_SHARE: f64 = 0.20;
/// Share of cells given to the per-slot symbol layer.
const SYMBOL_SHARE: f64 = 0.55;

/// What one cell of the block carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A known keyed sign: the presence test.
    Sync,
    /// One coded payload bit (its index).
    Data(u16),
    /// The caller's symbol of the slot the cell lies in; in payload-only marks, a coded
    /// payload bit (its index).
    Symbol(u16),
}

/// One cell: its role and its keyed sign.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    /// What the cell carries.
    pub role: Role,
    /// The keyed sign (+1 or -1) multiplying what it carries.
    pub sign: f32,
}

/// The keyed layout of one block: `BLOCK_PAIRS x BAND_BINS` cells.
#[derive(Debug, Clone)]
pub struct Layout {
    cells: Vec<Cell>,
    coded_len: usize,
}

impl Layout {
    /// Draws the layout for `key`.
    pub fn new(key: &WatermarkKey, coded_len: usize) -> Self {
        let total = BLOCK_PAIRS * BAND_BINS;
        let mut roles = key.stream("tracemark/v1/layout/roles");
        let mut signs = key.stream("tracemark/v1/layout/signs");
        let mut cells: Vec<Cell> = (0..total)
            .map(|_| {
                let u = roles.next_f64();
                let role = if u < SYNC_SHARE {
                    Role::Sync
                } else if u < SYNC_SHARE + SYMBOL_SHARE {
                    Role::Symbol(0)
                } else {
                    Role::Data(0)
                };
                Cell {
                    role,
                    sign: signs.next_sign(),
                }
            })
            .collect();
        // Spread each coded bit evenly over the block: shuffle the cells of each layer and
        // deal them out round robin.
        for (label, is_symbol) in [
            ("tracemark/v1/layout/data", false),
            ("tracemark/v1/layout/symbol", true),
        ] {
            let mut idx: Vec<usize> = (0..total)
                .filter(|&i| match cells[i].role {
                    Role::Data(_) => !is_symbol,
                    Role::Symbol(_) => is_symbol,
                    Role::Sync => false,
                })
                .collect();
            key.stream(label).shuffle(&mut idx);
            for (n, &i) in idx.iter().enumerate() {
                let bit = (n % coded_len) as u16;
                cells[i].role = if is_symbol {
                    Role::Symbol(bit)
                } else {
                    Role::Data(bit)
                };
            }
        }
        Self { cells, coded_len }
    }

    /// The cell at block pair `q` (taken modulo the block) and marked bin `k` (0-based
    /// within the band).
    pub fn cell(&self, q: usize, k: usize) -> Cell {
        self.cells[(q % BLOCK_PAIRS) * BAND_BINS + k]
    }

    /// Number of coded payload bits.
    pub fn coded_len(&self) -> usize {
        self.coded_len
    }
}

/// Number of symbol slots a signal of `pairs` frame pairs carries.
pub fn slots_for_pairs(pairs: usize) -> usize {
    pairs.div_ceil(SLOT_PAIRS)
}
