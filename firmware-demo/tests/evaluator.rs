//! On-target tests of the vi3nr-core evaluator and model parser (defmt-test):
//! `cargo test --release` (M4F) and `cargo test-m0` (M0), under QEMU through the runner.
#![no_std]
#![no_main]

use vi3nr_firmware as _; // logger, panic and fault handlers

#[defmt_test::tests]
mod tests {
    use defmt::assert_eq;
    use vi3nr_core::eval::Scratch;
    use vi3nr_core::model::{Model, ModelError, NumberFormat};
    use vi3nr_firmware::Aligned;
    use vi3nr_firmware::check::{WIDTH, parse, point, sdf_point, tolerance};
    use vi3nr_firmware::goldens::{MODELS, SDF_MODELS};

    /// Room for the i8 file (the smallest, 3,036 bytes), copied to RAM for the corruption
    /// tests: the M0's 16 KiB hold the test's stack beside it.
    const MAX_FILE: usize = 3_072;

    #[test]
    fn every_model_parses_with_the_hosts_crc() {
        for golden in &MODELS {
            let model = parse(golden).unwrap();
            assert_eq!((model.in_dim, model.out_dim, model.layers.len()), (2, 1, 4));
            assert_eq!(model.max_width(), WIDTH);
        }
    }

    #[test]
    fn formats_are_those_named() {
        let expected = [NumberFormat::F32, NumberFormat::F16, NumberFormat::Q15, NumberFormat::I8];
        for (golden, format) in MODELS.iter().zip(expected.iter().cycle()) {
            assert_eq!(parse(golden).unwrap().format, *format);
        }
    }

    #[test]
    fn outputs_match_the_host_on_a_diagonal() {
        let mut scratch = Scratch::<WIDTH>::new();
        for golden in &MODELS {
            let model = parse(golden).unwrap();
            for (k, host) in golden.host_outputs().enumerate().step_by(17) {
                let mut y = [0f32];
                model.eval(&point(k), &mut y, &mut scratch).unwrap();
                let host = f32::from_bits(host);
                defmt::assert!(
                    (y[0] - host).abs() <= tolerance(model.format),
                    "{=str} point {=usize}",
                    golden.name,
                    k
                );
            }
        }
    }

    #[test]
    fn sdf_models_are_3_to_1_and_match_the_host_bit_for_bit() {
        let expected = [NumberFormat::F32, NumberFormat::Q15, NumberFormat::I8];
        let mut scratch = Scratch::<WIDTH>::new();
        for (golden, &format) in SDF_MODELS.iter().zip(&expected) {
            let model = parse(golden).unwrap();
            assert_eq!((model.in_dim, model.out_dim, model.layers.len()), (3, 1, 4));
            assert_eq!(model.format, format);
            let (mut inside, mut host_inside) = (0u32, 0u32);
            for (k, host) in golden.host_outputs().enumerate() {
                let mut y = [0f32];
                model.eval(&sdf_point(k), &mut y, &mut scratch).unwrap();
                assert_eq!(y[0].to_bits(), host, "{=str} point {=usize}", golden.name, k);
                inside += u32::from(y[0] < 0.0);
                host_inside += u32::from(f32::from_bits(host) < 0.0);
            }
            assert_eq!(inside, host_inside);
            // The points reach both sides of the surface.
            defmt::assert!(
                inside > 0 && inside < 256,
                "{=str}: {=u32} inside",
                golden.name,
                inside
            );
            // A 2-D point is an error, not a panic.
            assert!(model.eval(&[0.0, 0.0], &mut [0f32], &mut scratch).is_err());
        }
    }

    #[test]
    fn batch_equals_point_by_point() {
        let mut scratch = Scratch::<WIDTH>::new();
        for golden in &MODELS {
            let model = parse(golden).unwrap();
            let mut xs = [0f32; 32];
            for (k, x) in xs.chunks_exact_mut(2).enumerate() {
                x.copy_from_slice(&point(16 * k + k));
            }
            let mut batch = [0f32; 16];
            model.eval_batch(&xs, &mut batch, &mut scratch).unwrap();
            for (x, b) in xs.chunks_exact(2).zip(batch) {
                let mut y = [0f32];
                model.eval(x, &mut y, &mut scratch).unwrap();
                assert_eq!(y[0].to_bits(), b.to_bits());
            }
        }
    }

    #[test]
    fn a_flipped_bit_fails_the_crc() {
        let mut buf = Aligned([0u8; MAX_FILE]);
        let golden = &MODELS[3]; // i8: the smallest file
        let n = golden.bytes.0.len();
        let bytes = &mut buf.0[..n];
        bytes.copy_from_slice(&golden.bytes.0);
        assert!(Model::parse(bytes).is_ok());
        bytes[n / 2] ^= 0x10;
        assert!(matches!(Model::parse(bytes), Err(ModelError::Crc { .. })));
    }

    #[test]
    fn misaligned_and_truncated_buffers_are_errors() {
        let mut buf = Aligned([0u8; MAX_FILE]);
        let golden = &MODELS[3];
        let n = golden.bytes.0.len();
        buf.0[1..=n].copy_from_slice(&golden.bytes.0);
        assert!(matches!(Model::parse(&buf.0[1..=n]), Err(ModelError::Misaligned)));
        assert!(Model::parse(&golden.bytes.0[..n - 4]).is_err());
        assert!(matches!(Model::parse(&golden.bytes.0[..8]), Err(ModelError::Truncated)));
    }

    #[test]
    fn short_buffers_are_errors_not_panics() {
        let model = parse(&MODELS[0]).unwrap();
        let mut small = [0f32; 8];
        let mut y = [0f32];
        assert!(matches!(
            model.eval_f32(&[0.0, 0.0], &mut y, &mut small),
            Err(ModelError::BufferLength(_))
        ));
        let mut big = [0f32; 2 * WIDTH];
        assert!(matches!(
            model.eval_f32(&[0.0], &mut y, &mut big),
            Err(ModelError::BufferLength(_))
        ));
        let mut fixed = [0i32; 2 * WIDTH];
        assert!(model.eval_fixed(&[0.0, 0.0], &mut y, &mut fixed).is_err());
    }
}
