//! A terminated convolutional code and its soft-decision Viterbi decoder
//! (Viterbi, IEEE Trans. Inf. Theory 13(2), 1967).

/// A feed-forward convolutional code of rate 1/n with constraint length K <= 16,
/// terminated with K-1 zero tail bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvCode {
    constraint: u32,
    generators: Vec<u32>,
}

impl ConvCode {
    /// The rate-1/3, K = 7 code of LTE, generators 133, 171, 165 (octal)
    /// (3GPP TS 36.212 §5.1.3.1).
    pub fn lte() -> Self {
        Self {
            constraint: 7,
            generators: vec![0o133, 0o171, 0o165],
        }
    }

    /// Coded bits produced per input bit.
    pub fn rate_inverse(&self) -> usize {
        self.generators.len()
    }

    /// Number of coded bits for `message_bits` input bits, tail included.
    pub fn coded_len(&self, message_bits: usize) -> usize {
        (message_bits + self.constraint as usize - 1) * self.generators.len()
    }

    /// Encodes `bits`, appending the zero tail.
    pub fn encode(&self, bits: &[bool]) -> Vec<bool> {
        let tail = self.constraint as usize - 1;
        let mut state: u32 = 0;
        let mut out = Vec::with_capacity(self.coded_len(bits.len()));
        for &b in bits.iter().chain(std::iter::repeat_n(&false, tail)) {
            let reg = (state << 1) | u32::from(b);
            for &g in &self.generators {
                out.push((reg & g).count_ones() % 2 == 1);
            }
            state = reg & ((1 << tail) - 1);
        }
        out
    }

    /// The expected sign pattern of every branch: `outputs[reg]` for
    /// `reg = (state << 1) | bit`.
    fn branch_outputs(&self) -> Vec<Vec<f32>> {
        let states = 1u32 << (self.constraint - 1);
        (0..states * 2)
            .map(|reg| {
                self.generators
                    .iter()
                    .map(|&g| {
                        if (reg & g).count_ones() % 2 == 1 {
                            1.0
                        } else {
                            -1.0
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Maximum-likelihood decoding of `soft` (one value per coded bit, positive meaning 1,
    /// magnitude its reliability; zero is an erasure) into `message_bits` bits. Missing
    /// trailing soft values count as erasures.
    pub fn decode(&self, soft: &[f32], message_bits: usize) -> Vec<bool> {
        // The list decoder's best path, ties broken the same way: the lower predecessor.
        self.decode_list(soft, message_bits, 1)
            .pop()
            .map_or_else(|| vec![false; message_bits], |(_, bits)| bits)
    }

    /// The `list` most likely messages for `soft`, best first, with their path metrics
    /// (the parallel list Viterbi algorithm: Seshadri & Sundberg, "List Viterbi decoding
    /// algorithms with applications", IEEE Trans. Commun. 42(2/3/4), 1994). With a CRC
    /// to pick among them, a list of a few paths gains a fraction of a dB over the single
    /// best path at these block lengths. The first entry is what [`ConvCode::decode`]
    /// returns. Fewer than `list` entries when the trellis has fewer paths.
    pub fn decode_list(
        &self,
        soft: &[f32],
        message_bits: usize,
        list: usize,
    ) -> Vec<(f32, Vec<bool>)> {
        let list = list.clamp(1, 255);
        let n = self.generators.len();
        let tail = self.constraint as usize - 1;
        let states = 1usize << tail;
        let steps = message_bits + tail;
        let outputs = self.branch_outputs();
        // metric[state * list + rank], best rank first.
        let mut metric = vec![f32::NEG_INFINITY; states * list];
        metric[0] = 0.0;
        let mut next = vec![f32::NEG_INFINITY; states * list];
        // Per step, state and rank: the predecessor's top bit and its rank.
        let mut decisions = vec![(0u8, 0u8); steps * states * list];
        let mut candidates: Vec<(f32, u8, u8)> = Vec::with_capacity(2 * list);
        for step in 0..steps {
            let received: Vec<f32> = (0..n)
                .map(|j| soft.get(step * n + j).copied().unwrap_or(0.0))
                .collect();
            next.fill(f32::NEG_INFINITY);
            for to in 0..states {
                let bit = to & 1;
                if bit == 1 && step >= message_bits {
                    continue;
                }
                candidates.clear();
                for top in 0..2usize {
                    let from = (to >> 1) | (top << (tail - 1));
                    let reg = (from << 1) | bit;
                    let branch: f32 = outputs[reg].iter().zip(&received).map(|(e, r)| e * r).sum();
                    for rank in 0..list {
                        let m = metric[from * list + rank];
                        if m == f32::NEG_INFINITY {
                            break;
                        }
                        candidates.push((m + branch, top as u8, rank as u8));
                    }
                }
                candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
                for (rank, &(m, top, prev)) in candidates.iter().take(list).enumerate() {
                    next[to * list + rank] = m;
                    decisions[(step * states + to) * list + rank] = (top, prev);
                }
            }
            std::mem::swap(&mut metric, &mut next);
        }
        // Terminated: trace every surviving path back from state 0.
        let mut out = Vec::with_capacity(list);
        for (rank, &m) in metric[..list].iter().enumerate() {
            if m == f32::NEG_INFINITY {
                break;
            }
            let (mut state, mut r) = (0usize, rank);
            let mut bits = vec![false; steps];
            for step in (0..steps).rev() {
                bits[step] = state & 1 == 1;
                let (top, prev) = decisions[(step * states + state) * list + r];
                state = (state >> 1) | (usize::from(top) << (tail - 1));
                r = usize::from(prev);
            }
            bits.truncate(message_bits);
            out.push((m, bits));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn to_soft(coded: &[bool]) -> Vec<f32> {
        coded.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect()
    }

    #[test]
    fn coded_length_includes_the_tail() {
        let code = ConvCode::lte();
        assert_eq!(code.encode(&[true; 10]).len(), code.coded_len(10));
        assert_eq!(code.coded_len(10), 48);
    }

    #[test]
    fn corrects_scattered_hard_errors() {
        let code = ConvCode::lte();
        let bits: Vec<bool> = (0..88).map(|i| (i * 37) % 5 < 2).collect();
        let mut soft = to_soft(&code.encode(&bits));
        for i in (0..soft.len()).step_by(11) {
            soft[i] = -soft[i];
        }
        assert_eq!(code.decode(&soft, bits.len()), bits);
    }

    #[test]
    fn the_list_holds_distinct_messages_best_first_and_finds_more_than_the_best_path() {
        let code = ConvCode::lte();
        let bits: Vec<bool> = (0..88).map(|i| (i * 29) % 7 < 3).collect();
        let clean = to_soft(&code.encode(&bits));
        // Gaussian noise (Box-Muller on an LCG) at an Eb/N0 where single paths often fail.
        let mut s = 12_345u64;
        let mut uniform = move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let (mut best_right, mut listed_right) = (0, 0);
        for _ in 0..200 {
            let noisy: Vec<f32> = clean
                .iter()
                .map(|c| {
                    let g =
                        (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
                    c + 1.1 * g as f32
                })
                .collect();
            let listed = code.decode_list(&noisy, bits.len(), 16);
            assert_eq!(listed.len(), 16);
            assert_eq!(listed[0].1, code.decode(&noisy, bits.len()));
            for pair in listed.windows(2) {
                assert!(pair[0].0 >= pair[1].0, "best first");
            }
            let mut messages: Vec<&Vec<bool>> = listed.iter().map(|(_, m)| m).collect();
            messages.sort();
            messages.dedup();
            assert_eq!(messages.len(), 16, "distinct paths");
            best_right += usize::from(listed[0].1 == bits);
            listed_right += usize::from(listed.iter().any(|(_, m)| *m == bits));
        }
        assert!(
            listed_right > best_right && best_right < 200,
            "best path right {best_right}/200, in the list {listed_right}/200"
        );
    }

    proptest! {
        #[test]
        fn the_list_starts_with_the_viterbi_decision(
            bits in proptest::collection::vec(any::<bool>(), 1..60),
            noise in proptest::collection::vec(-1.5f32..1.5, 200),
        ) {
            let code = ConvCode::lte();
            let soft: Vec<f32> = to_soft(&code.encode(&bits))
                .iter()
                .zip(&noise)
                .map(|(s, n)| s + n)
                .collect();
            let listed = code.decode_list(&soft, bits.len(), 8);
            prop_assert_eq!(&listed[0].1, &code.decode(&soft, bits.len()));
        }

        #[test]
        fn decoding_a_clean_codeword_returns_the_message(bits in proptest::collection::vec(any::<bool>(), 1..120)) {
            let code = ConvCode::lte();
            let soft = to_soft(&code.encode(&bits));
            prop_assert_eq!(code.decode(&soft, bits.len()), bits);
        }

        #[test]
        fn erasing_every_third_coded_bit_still_decodes(bits in proptest::collection::vec(any::<bool>(), 1..120)) {
            let code = ConvCode::lte();
            let mut soft = to_soft(&code.encode(&bits));
            for i in (0..soft.len()).step_by(3) {
                soft[i] = 0.0;
            }
            prop_assert_eq!(code.decode(&soft, bits.len()), bits);
        }
    }
}
