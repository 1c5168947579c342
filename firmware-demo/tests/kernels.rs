//! On-target tests of vi3nr-core's inner loops (defmt-test): the target's loop (`smlad`
//! assembly on the M4F, `ldm`/`muls` assembly on the M0) against the portable Rust sum, over
//! lengths 0 to 80, aligned and misaligned slices, random and extreme values.
//! `cargo test --release` (M4F) and `cargo test-m0` (M0), under QEMU through the runner.
#![no_std]
#![no_main]

use vi3nr_core::eval::parts::Lane;
use vi3nr_firmware as _; // logger, panic and fault handlers

const N: usize = 84;

/// xorshift32: a reproducible stream of test values.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// 4-byte aligned arrays, so that `[k..]` starts aligned for even `k` (i16) and `k % 4 == 0`
/// (i8) and misaligned otherwise.
#[repr(C, align(4))]
struct Data {
    w16: [i16; N],
    w8: [i8; N],
    x: [Lane; N],
    x16: [i16; N],
}

/// An i16 as the evaluator stores it (`Lane`: i16 on the M4F, i32 on the M0).
#[allow(clippy::useless_conversion)] // i16 → i16 on the M4F
fn lane(v: i16) -> Lane {
    v.into()
}

fn data(seed: u32, extreme: bool) -> Data {
    let mut rng = Rng(seed);
    let mut d = Data { w16: [0; N], w8: [0; N], x: [0; N], x16: [0; N] };
    for k in 0..N {
        let (a, b) = (rng.next(), rng.next());
        d.w16[k] = if extreme { [i16::MIN, i16::MAX][(a & 1) as usize] } else { a as i16 };
        d.w8[k] = if extreme { [i8::MIN, i8::MAX][(a >> 1 & 1) as usize] } else { a as i8 };
        d.x16[k] = if extreme { [i16::MIN, i16::MAX][(b & 1) as usize] } else { b as i16 };
        d.x[k] = lane(d.x16[k]);
    }
    d
}

#[defmt_test::tests]
mod tests {
    use super::{N, data, lane};
    use defmt::assert_eq;
    use vi3nr_core::eval::parts::{Lane, dot_i8, dot_portable, dot_q15};

    #[test]
    fn q15_loop_equals_the_portable_sum() {
        for (seed, extreme) in [(1, false), (7, false), (99, true), (12_345, true)] {
            let d = data(seed, extreme);
            for start in 0..4 {
                for n in 0..=N - 4 {
                    let (w, x) = (&d.w16[start..start + n], &d.x[start..start + n]);
                    let want = dot_portable(w, &d.x16[start..start + n]);
                    assert_eq!(dot_q15(w, x), want, "seed {} start {} n {}", seed, start, n);
                }
            }
        }
    }

    #[test]
    fn i8_loop_equals_the_portable_sum() {
        for (seed, extreme) in [(3, false), (11, false), (77, true), (54_321, true)] {
            let d = data(seed, extreme);
            for start in 0..4 {
                for n in 0..=N - 4 {
                    let (w, x) = (&d.w8[start..start + n], &d.x[start..start + n]);
                    let want = dot_portable(w, &d.x16[start..start + n]);
                    assert_eq!(dot_i8(w, x), want, "seed {} start {} n {}", seed, start, n);
                }
            }
        }
    }

    #[test]
    fn the_sum_wraps_as_the_portable_one() {
        // 32 products of −2¹⁵ · −2¹⁵ = 2³⁰ each make 2³⁵, which wraps to 0; three make 3 · 2³⁰.
        let w = [i16::MIN; 32];
        let x: [Lane; 32] = [lane(i16::MIN); 32];
        assert_eq!(dot_q15(&w, &x), 0);
        assert_eq!(dot_q15(&w[..3], &x[..3]), dot_portable(&w[..3], &[i16::MIN; 3]));
    }
}
