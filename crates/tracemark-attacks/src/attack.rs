//! The [`Attack`] enum: every transform by name and parameters, and its dispatch.

use tracemark_dsp::{AudioBuffer, SampleRate};

use crate::codec::{Codec, CodecBackend};
use crate::filter::{Pass, butterworth, filter_channels};
use crate::resample::{conform, fit_length, resample_channels, stretch_channels};
use crate::rng::{self, Rng};
use crate::{AttackError, edit, g711, level, noise, room, wsola};

/// What an attack may draw on besides its input: the seed for its randomness, a second buffer
/// (babble source, another recipient's copy, a foreign segment) and a codec backend.
#[derive(Clone, Copy)]
pub struct AttackContext<'a> {
    seed: u64,
    other: Option<&'a AudioBuffer>,
    codec_backend: Option<&'a dyn CodecBackend>,
}

impl<'a> AttackContext<'a> {
    /// A context with only a seed: enough for every attack but the codecs and the edits.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            other: None,
            codec_backend: None,
        }
    }

    /// Adds the second buffer that [`Attack::Babble`], [`Attack::Splice`],
    /// [`Attack::Average`] and [`Attack::InsertForeign`] combine with the input.
    pub fn with_other(self, other: &'a AudioBuffer) -> Self {
        Self {
            other: Some(other),
            ..self
        }
    }

    /// Adds the backend that runs [`Attack::Codec`] and [`Attack::TelephoneChain`].
    pub fn with_codec_backend(self, backend: &'a dyn CodecBackend) -> Self {
        Self {
            codec_backend: Some(backend),
            ..self
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn rng(&self, stream: &str) -> Rng {
        rng::stream(self.seed, stream)
    }
}

/// The telephone band (ITU-T G.712 / G.132: 300 to 3400 Hz).
pub const TELEPHONE_BAND_HZ: (f32, f32) = (300.0, 3400.0);
/// The telephone sample rate (ITU-T G.711).
pub const TELEPHONE_RATE_HZ: u32 = 8_000;

/// One attack with its parameters. [`Attack::name`] gives a stable short name for tables.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Attack {
    /// A lossy codec round trip, run by the context's [`CodecBackend`].
    Codec(Codec),
    /// Resample to `hz` and back to the original rate.
    ResampleVia {
        /// The intermediate rate.
        hz: u32,
    },
    /// G.711 mu-law at 8 kHz: resample to 8 kHz, compand to 8 bits and back, resample back.
    MuLaw,
    /// The telephone chain: 8 kHz, band-pass 300-3400 Hz, then `codec`, then back to the
    /// original rate.
    TelephoneChain {
        /// The codec applied at 8 kHz.
        codec: Codec,
    },
    /// Multiply by `factor`, clipping at full scale.
    Gain {
        /// The factor (0.25, 4).
        factor: f32,
    },
    /// Drive by `drive_db` into a -1 dBFS look-ahead limiter.
    Limiter {
        /// Gain before the limiter, dB.
        drive_db: f32,
    },
    /// Add white Gaussian noise at `snr_db`.
    WhiteNoise {
        /// Signal-to-noise ratio over the whole buffer, dB.
        snr_db: f32,
    },
    /// Add babble made from the context's other buffer (or, without one, from the input
    /// itself) at `snr_db`.
    Babble {
        /// Signal-to-noise ratio over the whole buffer, dB.
        snr_db: f32,
    },
    /// Order-4 Butterworth low-pass.
    LowPass {
        /// -3 dB frequency.
        cutoff_hz: f32,
    },
    /// Order-4 Butterworth high-pass.
    HighPass {
        /// -3 dB frequency.
        cutoff_hz: f32,
    },
    /// Order-4 Butterworth high-pass then low-pass.
    BandPass {
        /// Lower -3 dB frequency.
        low_hz: f32,
        /// Upper -3 dB frequency.
        high_hz: f32,
    },
    /// One echo.
    Echo {
        /// Delay of the echo.
        delay_ms: f32,
        /// Its amplitude relative to the direct sound.
        gain: f32,
    },
    /// Convolution with a synthetic room response (direct-to-reverberant ratio 0 dB).
    Reverb {
        /// Reverberation time (60 dB decay).
        rt60_ms: f32,
    },
    /// Keep `seconds` from a random start.
    Crop {
        /// Length kept.
        seconds: f32,
    },
    /// Play `percent` faster by resampling (pitch rises with it); length scales by
    /// `1 / (1 + percent / 100)`.
    Speed {
        /// Speed change, percent.
        percent: f32,
    },
    /// Play `percent` faster by WSOLA, keeping the pitch.
    Tempo {
        /// Tempo change, percent.
        percent: f32,
    },
    /// Shift pitch by `semitones`, keeping the length (WSOLA stretch, then resampling).
    PitchShift {
        /// Shift in equal-tempered semitones.
        semitones: f32,
    },
    /// In each period, drop or repeat a chunk at a random position.
    Jitter {
        /// Chunk dropped or repeated.
        chunk_ms: f32,
        /// One edit per this much audio.
        period_ms: f32,
    },
    /// Remove `seconds` from the middle.
    Cut {
        /// Length removed.
        seconds: f32,
    },
    /// Simulated loudspeaker-to-microphone path: loudspeaker band (150 Hz to 7 kHz),
    /// mild loudspeaker saturation, a room (RT60 300 ms, DRR +6 dB), microphone noise at
    /// 30 dB SNR.
    ReRecording,
    /// The first half of the input, then the second half of the other buffer (two recipients'
    /// copies spliced).
    Splice,
    /// The mean of the input and the other buffer (two copies averaged).
    Average,
    /// `seconds` of the other (foreign, unmarked) buffer inserted at the input's middle.
    InsertForeign {
        /// Length inserted.
        seconds: f32,
    },
}

/// Loudspeaker pass band of the re-recording model (a small full-range driver).
pub const RERECORD_BAND_HZ: (f32, f32) = (150.0, 7_000.0);
/// Room of the re-recording model: RT60 of a furnished office (ISO 3382-2 typical 0.3-0.5 s).
pub const RERECORD_RT60_S: f64 = 0.3;
/// Direct-to-reverberant ratio of the re-recording model: a microphone about 1 m away.
pub const RERECORD_DRR_DB: f64 = 6.0;
/// Microphone and room noise of the re-recording model.
pub const RERECORD_SNR_DB: f64 = 30.0;
/// Drive into the loudspeaker's `tanh` saturation.
pub const RERECORD_DRIVE: f32 = 1.5;

impl Attack {
    /// A stable short name for tables and file names, such as `speed+5%` or `mp3-64k`.
    pub fn name(&self) -> String {
        match *self {
            Self::Codec(codec) => codec.name(),
            Self::ResampleVia { hz } => format!("resample-{}k", f64::from(hz) / 1000.0),
            Self::MuLaw => "g711-mulaw".into(),
            Self::TelephoneChain { codec } => format!("tel8k+bp+{}", codec.name()),
            Self::Gain { factor } => format!("gain-x{factor}"),
            Self::Limiter { drive_db } => format!("limiter{drive_db:+}dB"),
            Self::WhiteNoise { snr_db } => format!("noise-{snr_db}dB"),
            Self::Babble { snr_db } => format!("babble-{snr_db}dB"),
            Self::LowPass { cutoff_hz } => format!("lowpass-{cutoff_hz}Hz"),
            Self::HighPass { cutoff_hz } => format!("highpass-{cutoff_hz}Hz"),
            Self::BandPass { low_hz, high_hz } => format!("bandpass-{low_hz}-{high_hz}Hz"),
            Self::Echo { delay_ms, gain } => format!("echo-{delay_ms}ms-{gain}"),
            Self::Reverb { rt60_ms } => format!("reverb-{rt60_ms}ms"),
            Self::Crop { seconds } => format!("crop-{seconds}s"),
            Self::Speed { percent } => format!("speed{percent:+}%"),
            Self::Tempo { percent } => format!("tempo{percent:+}%"),
            Self::PitchShift { semitones } => format!("pitch{semitones:+}st"),
            Self::Jitter {
                chunk_ms,
                period_ms,
            } => format!("jitter-{chunk_ms}ms-per-{period_ms}ms"),
            Self::Cut { seconds } => format!("cut-{seconds}s"),
            Self::ReRecording => "rerecord".into(),
            Self::Splice => "splice".into(),
            Self::Average => "average".into(),
            Self::InsertForeign { seconds } => format!("insert-{seconds}s"),
        }
    }

    /// Applies the attack. Deterministic for a given input and context.
    pub fn apply(
        &self,
        input: &AudioBuffer,
        ctx: &AttackContext<'_>,
    ) -> Result<AudioBuffer, AttackError> {
        let rate = input.rate();
        let fs = rate.hz();
        let frames = input.frames();
        let mut ch = input.channels().to_vec();
        let out = match *self {
            Self::Codec(codec) => return self.backend(ctx)?.round_trip(codec, input),
            Self::ResampleVia { hz } => {
                let via = SampleRate::try_new(hz)?;
                let down = resample_channels(&ch, fs, via.hz())?;
                fit_length(resample_channels(&down, via.hz(), fs)?, frames)
            }
            Self::MuLaw => {
                let mut down = resample_channels(&ch, fs, TELEPHONE_RATE_HZ)?;
                down.iter_mut().for_each(|c| g711::mulaw_round_trip(c));
                fit_length(resample_channels(&down, TELEPHONE_RATE_HZ, fs)?, frames)
            }
            Self::TelephoneChain { codec } => {
                let backend = self.backend(ctx)?;
                let narrow = telephone_band(input)?;
                let coded = backend.round_trip(codec, &narrow)?;
                fit_length(
                    resample_channels(coded.channels(), TELEPHONE_RATE_HZ, fs)?,
                    frames,
                )
            }
            Self::Gain { factor } => {
                self.check(factor.is_finite() && factor >= 0.0, "factor must be >= 0")?;
                ch.iter_mut().for_each(|c| level::gain_clip(c, factor));
                ch
            }
            Self::Limiter { drive_db } => {
                self.check((0.0..=40.0).contains(&drive_db), "drive must be 0..=40 dB")?;
                level::limit(&mut ch, fs, drive_db);
                ch
            }
            Self::WhiteNoise { snr_db } => {
                self.check(snr_db.is_finite(), "SNR must be finite")?;
                let nz = noise::white(ch.len(), frames, &mut ctx.rng("white-noise"));
                noise::add_at_snr(&mut ch, &nz, f64::from(snr_db));
                ch
            }
            Self::Babble { snr_db } => {
                self.check(snr_db.is_finite(), "SNR must be finite")?;
                let source = match ctx.other {
                    Some(other) => conform(other, rate, ch.len())?,
                    None => ch.clone(),
                };
                let nz = noise::babble(&source, frames, &mut ctx.rng("babble"));
                noise::add_at_snr(&mut ch, &nz, f64::from(snr_db));
                ch
            }
            Self::LowPass { cutoff_hz } => {
                self.check_cutoff(cutoff_hz, fs)?;
                filter_channels(
                    &mut ch,
                    &butterworth(Pass::Low, f64::from(fs), cutoff_hz.into()),
                );
                ch
            }
            Self::HighPass { cutoff_hz } => {
                self.check_cutoff(cutoff_hz, fs)?;
                filter_channels(
                    &mut ch,
                    &butterworth(Pass::High, f64::from(fs), cutoff_hz.into()),
                );
                ch
            }
            Self::BandPass { low_hz, high_hz } => {
                self.check_cutoff(low_hz, fs)?;
                self.check_cutoff(high_hz, fs)?;
                self.check(low_hz < high_hz, "low edge must lie below high edge")?;
                band_pass(&mut ch, fs, low_hz, high_hz);
                ch
            }
            Self::Echo { delay_ms, gain } => {
                self.check(
                    delay_ms > 0.0 && delay_ms <= 2_000.0,
                    "delay must be 0..=2000 ms",
                )?;
                self.check(gain.abs() <= 1.0, "gain must be within -1..=1")?;
                let delay = ms_to_frames(delay_ms, fs);
                ch.iter().map(|c| room::echo(c, delay, gain)).collect()
            }
            Self::Reverb { rt60_ms } => {
                self.check(
                    (10.0..=5_000.0).contains(&rt60_ms),
                    "RT60 must be 10..=5000 ms",
                )?;
                let mut rng = ctx.rng("reverb");
                ch.iter()
                    .map(|c| {
                        let h = room::room_impulse_response(
                            fs,
                            f64::from(rt60_ms) / 1e3,
                            0.0,
                            &mut rng,
                        );
                        room::convolve(c, &h)
                    })
                    .collect()
            }
            Self::Crop { seconds } => {
                self.check(seconds > 0.0, "length must be positive")?;
                let len = self.needs(ms_to_frames(seconds * 1e3, fs), frames)?;
                edit::crop(&ch, len, &mut ctx.rng("crop"))
            }
            Self::Cut { seconds } => {
                self.check(seconds > 0.0, "length must be positive")?;
                let len = ms_to_frames(seconds * 1e3, fs);
                self.needs(len + 1, frames)?;
                edit::cut_middle(&ch, len)
            }
            Self::Speed { percent } => {
                let factor = self.percent_factor(percent)?;
                stretch_channels(&ch, 1.0 / factor)?
            }
            Self::Tempo { percent } => {
                let factor = self.percent_factor(percent)?;
                wsola::time_stretch(&ch, fs, factor)
            }
            Self::PitchShift { semitones } => {
                self.check(semitones.abs() <= 12.0, "shift must be within an octave")?;
                // Equal temperament: a semitone is a frequency ratio of 2^(1/12).
                let ratio = 2f64.powf(f64::from(semitones) / 12.0);
                let longer = wsola::time_stretch(&ch, fs, 1.0 / ratio);
                fit_length(stretch_channels(&longer, 1.0 / ratio)?, frames)
            }
            Self::Jitter {
                chunk_ms,
                period_ms,
            } => {
                self.check(chunk_ms > 0.0, "chunk must be positive")?;
                self.check(
                    period_ms >= 4.0 * chunk_ms,
                    "period must be at least 4 chunks",
                )?;
                let chunk = ms_to_frames(chunk_ms, fs).max(1);
                let period = ms_to_frames(period_ms, fs);
                edit::jitter(&ch, period, chunk, &mut ctx.rng("jitter"))
            }
            Self::ReRecording => rerecord(ch, fs, frames, ctx),
            Self::Splice | Self::Average => {
                let other = self.other(ctx, "another recipient's copy of the same audio")?;
                let b = conform(other, rate, ch.len())?;
                let b_frames = b.first().map_or(0, Vec::len);
                if b_frames < frames {
                    return Err(AttackError::MismatchedBuffers {
                        attack: self.name(),
                        reason: format!("the other copy has {b_frames} frames, the input {frames}"),
                    });
                }
                if *self == Self::Splice {
                    edit::splice(&ch, &b, frames)
                } else {
                    edit::average(&ch, &b, frames)
                }
            }
            Self::InsertForeign { seconds } => {
                self.check(seconds > 0.0, "length must be positive")?;
                let other = self.other(ctx, "a foreign (unmarked) recording")?;
                let foreign = conform(other, rate, ch.len())?;
                let len = ms_to_frames(seconds * 1e3, fs);
                let have = foreign.first().map_or(0, Vec::len);
                if have < len {
                    return Err(AttackError::MismatchedBuffers {
                        attack: self.name(),
                        reason: format!("the foreign buffer has {have} frames, {len} needed"),
                    });
                }
                edit::insert_middle(&ch, &foreign, len)
            }
        };
        Ok(AudioBuffer::try_new(rate, out)?)
    }

    fn backend<'c>(&self, ctx: &AttackContext<'c>) -> Result<&'c dyn CodecBackend, AttackError> {
        ctx.codec_backend
            .ok_or_else(|| AttackError::NoCodecBackend {
                attack: self.name(),
            })
    }

    fn other<'c>(
        &self,
        ctx: &AttackContext<'c>,
        role: &'static str,
    ) -> Result<&'c AudioBuffer, AttackError> {
        ctx.other.ok_or_else(|| AttackError::MissingOtherBuffer {
            attack: self.name(),
            role,
        })
    }

    fn check(&self, ok: bool, reason: &str) -> Result<(), AttackError> {
        if ok {
            Ok(())
        } else {
            Err(AttackError::InvalidParameter {
                attack: self.name(),
                reason: reason.into(),
            })
        }
    }

    fn check_cutoff(&self, hz: f32, fs: u32) -> Result<(), AttackError> {
        self.check(
            hz > 0.0 && f64::from(hz) < 0.49 * f64::from(fs),
            &format!(
                "cut-off {hz} Hz must lie between 0 and just below Nyquist ({} Hz)",
                fs / 2
            ),
        )
    }

    fn percent_factor(&self, percent: f32) -> Result<f64, AttackError> {
        self.check(
            (-50.0..=100.0).contains(&percent),
            "change must be -50..=100 %",
        )?;
        Ok(1.0 + f64::from(percent) / 100.0)
    }

    fn needs(&self, needed_frames: usize, frames: usize) -> Result<usize, AttackError> {
        if needed_frames <= frames {
            Ok(needed_frames)
        } else {
            Err(AttackError::TooShort {
                attack: self.name(),
                needed_frames,
                frames,
            })
        }
    }
}

fn ms_to_frames(ms: f32, fs: u32) -> usize {
    (f64::from(ms) * f64::from(fs) / 1e3).round() as usize
}

fn band_pass(ch: &mut [Vec<f32>], fs: u32, low_hz: f32, high_hz: f32) {
    let fs = f64::from(fs);
    filter_channels(ch, &butterworth(Pass::High, fs, low_hz.into()));
    filter_channels(ch, &butterworth(Pass::Low, fs, high_hz.into()));
}

/// The input as a telephone line carries it: resampled to 8 kHz and band-limited to
/// 300-3400 Hz (ITU-T G.712). Channels are kept.
pub fn telephone_band(input: &AudioBuffer) -> Result<AudioBuffer, AttackError> {
    let mut down = resample_channels(input.channels(), input.rate().hz(), TELEPHONE_RATE_HZ)?;
    band_pass(
        &mut down,
        TELEPHONE_RATE_HZ,
        TELEPHONE_BAND_HZ.0,
        TELEPHONE_BAND_HZ.1,
    );
    Ok(AudioBuffer::try_new(
        SampleRate::try_new(TELEPHONE_RATE_HZ)?,
        down,
    )?)
}

/// The 8 kHz telephone chain in one call: [`telephone_band`], then G.711 mu-law, as an 8 kHz
/// buffer (no return to the original rate).
pub fn telephone_mulaw_8k(input: &AudioBuffer) -> Result<AudioBuffer, AttackError> {
    let rate = SampleRate::try_new(TELEPHONE_RATE_HZ)?;
    let mut ch = telephone_band(input)?.into_channels();
    ch.iter_mut().for_each(|c| g711::mulaw_round_trip(c));
    Ok(AudioBuffer::try_new(rate, ch)?)
}

fn rerecord(
    mut ch: Vec<Vec<f32>>,
    fs: u32,
    frames: usize,
    ctx: &AttackContext<'_>,
) -> Vec<Vec<f32>> {
    let (low, high) = RERECORD_BAND_HZ;
    let high = high.min(0.45 * fs as f32);
    band_pass(&mut ch, fs, low, high);
    for c in &mut ch {
        for s in c.iter_mut() {
            *s = (*s * RERECORD_DRIVE).tanh() / RERECORD_DRIVE;
        }
    }
    let mut rng = ctx.rng("rerecord-room");
    let mut out: Vec<Vec<f32>> = ch
        .iter()
        .map(|c| {
            let h = room::room_impulse_response(fs, RERECORD_RT60_S, RERECORD_DRR_DB, &mut rng);
            room::convolve(c, &h)
        })
        .collect();
    let nz = noise::white(out.len(), frames, &mut ctx.rng("rerecord-noise"));
    noise::add_at_snr(&mut out, &nz, RERECORD_SNR_DB);
    out
}
