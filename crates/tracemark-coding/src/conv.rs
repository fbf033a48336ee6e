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

    /// Maximum-likelihood decoding of `soft` (one value per coded bit, positive meaning 1,
    /// magnitude its reliability; zero is an erasure) into `message_bits` bits. Missing
    /// trailing soft values count as erasures.
    pub fn decode(&self, soft: &[f32], message_bits: usize) -> Vec<bool> {
        let n = self.generators.len();
        let tail = self.constraint as usize - 1;
        let states = 1usize << tail;
        let steps = message_bits + tail;
        // The expected sign pattern of each branch: outputs[reg] for reg = (state << 1) | bit.
        let outputs: Vec<Vec<f32>> = (0..(states * 2) as u32)
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
            .collect();
        let mut metric = vec![f32::NEG_INFINITY; states];
        metric[0] = 0.0;
        let mut next = vec![f32::NEG_INFINITY; states];
        // decisions[step][state] = the predecessor's top bit, packed as bytes.
        let mut decisions = vec![0u8; steps * states];
        for step in 0..steps {
            let received: Vec<f32> = (0..n)
                .map(|j| soft.get(step * n + j).copied().unwrap_or(0.0))
                .collect();
            next.fill(f32::NEG_INFINITY);
            for (state, &m) in metric.iter().enumerate() {
                if m == f32::NEG_INFINITY {
                    continue;
                }
                let max_bit = if step >= message_bits { 0 } else { 1 };
                for bit in 0..=max_bit {
                    let reg = (state << 1) | bit;
                    let branch: f32 = outputs[reg].iter().zip(&received).map(|(e, r)| e * r).sum();
                    let to = reg & (states - 1);
                    let cand = m + branch;
                    if cand > next[to] {
                        next[to] = cand;
                        decisions[step * states + to] = (state >> (tail - 1)) as u8;
                    }
                }
            }
            std::mem::swap(&mut metric, &mut next);
        }
        // Terminated: trace back from state 0.
        let mut state = 0usize;
        let mut bits = vec![false; steps];
        for step in (0..steps).rev() {
            bits[step] = state & 1 == 1;
            let top = decisions[step * states + state] as usize;
            state = (state >> 1) | (top << (tail - 1));
        }
        bits.truncate(message_bits);
        bits
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

    proptest! {
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
