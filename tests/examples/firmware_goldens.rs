//! Writes `firmware-demo/src/goldens.rs` and `firmware-demo/models/<model>.out`: the firmware
//! demo's models (included from `firmware-demo/models/`), their outputs on a 16×16 grid over
//! [−1, 1]² computed on the host by the vi3nr-core evaluator (each `.out` file: 256 f32, little
//! endian), and the host's init plan for a 5-matrix Gaussian network. The SDF models (3 → 1, a
//! torus) are evaluated instead at 256 fixed pseudo-random query points in [−1, 1]³
//! ([`sdf_points`]), which `goldens.rs` also carries, so that the device reads the very same f32
//! coordinates.
//!
//! `cargo run --release -p vi3nr-tests --example firmware_goldens` (or
//! `firmware-demo/models/regenerate.sh`, which also retrains the models). The test
//! `tests/tests/firmware_goldens.rs` recomputes the file and fails when the committed one is stale.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vi3nr_core::Act;
use vi3nr_core::eval::Scratch;
use vi3nr_core::init::{
    BiasInit, BiasScheme, FirstSigma, InputStats, Plan, PlanSpec, SigmaP, SolveOptions,
};
use vi3nr_core::model::Model;
use vi3nr_cuda::export::AlignedBytes;

/// The models, by file stem under `firmware-demo/models/`.
pub const MODELS: [&str; 8] = [
    "sine-f32",
    "sine-f16",
    "sine-q15",
    "sine-i8",
    "gaussian-f32",
    "gaussian-f16",
    "gaussian-q15",
    "gaussian-i8",
];
/// The SDF models (3 → 1: signed distance in the mesh's units at a normalised point), by file
/// stem under `firmware-demo/models/`.
pub const SDF_MODELS: [&str; 3] = ["sdf-torus-f32", "sdf-torus-q15", "sdf-torus-i8"];
/// Query points of the SDF models.
pub const SDF_POINTS: usize = 256;
/// The budget-fitted image models (`vi3nr fit --budget 2K`, the format its trials chose), which
/// the device renders at every pixel of a [`RENDER_N`] × [`RENDER_N`] image.
pub const RENDER_MODELS: [&str; 1] = ["budget-2k"];
/// Pixels per side of the rendered image.
pub const RENDER_N: usize = 64;
/// Grid points per side.
pub const N: usize = 16;
/// Widths of the init-plan network: five weight matrices.
pub const PLAN_WIDTHS: [usize; 6] = [2, 32, 32, 32, 32, 1];
/// Its Gaussian width `a`.
pub const PLAN_GAUSSIAN_A: f64 = 0.05;
/// Its bias fraction ρ.
pub const PLAN_BIAS_FRACTION: f64 = 0.1;

/// `firmware-demo/` of this checkout.
pub fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware-demo")
}

/// The 16 coordinates of each axis: `−1 + 2j/15` in f32.
pub fn grid() -> [f32; N] {
    core::array::from_fn(|j| -1.0 + 2.0 * j as f32 / (N - 1) as f32)
}

/// The rendered image's coordinates per axis: `−1 + 2j/63` in f32 (pixel centres of
/// `vi3nr eval --size 64x64`).
pub fn render_grid() -> [f32; RENDER_N] {
    core::array::from_fn(|j| -1.0 + 2.0 * j as f32 / (RENDER_N - 1) as f32)
}

/// The SDF query points: 256 points in [−1, 1]³, each coordinate `−1 + k·2⁻²³` for the top 24
/// bits `k` of a xorshift32 stream (seed 0x5df0_0001): exact in f32, fixed forever.
pub fn sdf_points() -> Vec<[f32; 3]> {
    let mut state = 0x5df0_0001u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        -1.0 + (state >> 8) as f32 * (-23f32).exp2()
    };
    (0..SDF_POINTS).map(|_| [next(), next(), next()]).collect()
}

fn hex_rows<T: std::fmt::LowerHex>(out: &mut String, values: &[T], indent: usize, per_line: usize) {
    for chunk in values.chunks(per_line) {
        out.push_str(&" ".repeat(indent - 1));
        for v in chunk {
            write!(out, " 0x{v:08x},").unwrap();
        }
        out.push('\n');
    }
}

/// Each model's host outputs as the bytes of its `.out` file (f32, little endian): the image
/// models' on the grid, the SDF models' at [`sdf_points`].
pub fn outputs() -> Vec<(&'static str, Vec<u8>)> {
    let axis = grid();
    let grid: Vec<Vec<f32>> = (0..N * N).map(|k| vec![axis[k % N], axis[k / N]]).collect();
    let sdf: Vec<Vec<f32>> = sdf_points().iter().map(|p| p.to_vec()).collect();
    let pixels = render_grid();
    let render: Vec<Vec<f32>> = (0..RENDER_N * RENDER_N)
        .map(|k| vec![pixels[k % RENDER_N], pixels[k / RENDER_N]])
        .collect();
    let image = MODELS.iter().map(|&name| (name, &grid));
    let shapes = SDF_MODELS.iter().map(|&name| (name, &sdf));
    let rendered = RENDER_MODELS.iter().map(|&name| (name, &render));
    image
        .chain(shapes)
        .chain(rendered)
        .map(|(name, points)| {
            let mut out = Vec::with_capacity(4 * points.len());
            for y in eval_model(name, points) {
                out.extend(y.to_le_bytes());
            }
            (name, out)
        })
        .collect()
}

/// Model `name` (a file stem under `firmware-demo/models/`) evaluated on the host at `points`
/// (each of the model's input dimension; one output each).
pub fn eval_model(name: &str, points: &[Vec<f32>]) -> Vec<f32> {
    let bytes = std::fs::read(firmware_dir().join(format!("models/{name}.vi3"))).unwrap();
    let aligned = AlignedBytes::copy_from(&bytes);
    let model = Model::parse(aligned.bytes()).unwrap();
    let mut scratch = Scratch::<32>::new();
    points
        .iter()
        .map(|x| {
            assert_eq!(
                (model.in_dim, model.out_dim),
                (x.len(), 1),
                "{name}: a {}→1 model",
                x.len()
            );
            let mut y = [0f32];
            model.eval(x, &mut y, &mut scratch).unwrap();
            y[0]
        })
        .collect()
}

/// The text of `goldens.rs` for the committed models.
pub fn render() -> String {
    let dir = firmware_dir().join("models");
    let axis = grid();
    let mut s = String::new();
    s.push_str(
        "// @generated by `cargo run --release -p vi3nr-tests --example firmware_goldens` (from the\n\
         // main workspace); do not edit. `cargo test --workspace` fails when this file is stale.\n\
         //\n\
         // Models from `models/` and their outputs on the host (vi3nr-core's evaluator, x86_64),\n\
         // and the host's init plan. Floats are stored as bit patterns: comparisons are exact.\n\n\
         use crate::{GoldenModel, golden};\n\n",
    );
    s.push_str("/// The grid coordinates of each axis (f32 bits): point `k` is `(GRID[k % 16], GRID[k / 16])`.\n");
    s.push_str(&format!("pub const GRID: [u32; {N}] = [\n"));
    hex_rows(&mut s, &axis.map(f32::to_bits), 4, 8);
    s.push_str("];\n\n");
    s.push_str(&format!("/// The models and their host outputs on the grid.\npub static MODELS: [GoldenModel; {}] = [\n", MODELS.len()));
    let golden_line = |s: &mut String, name: &str| {
        let bytes = std::fs::read(dir.join(format!("{name}.vi3"))).unwrap();
        let crc = Model::parse(AlignedBytes::copy_from(&bytes).bytes()).unwrap().crc;
        writeln!(s, "    golden!(\"{name}\", 0x{crc:08x}),").unwrap();
    };
    for name in MODELS {
        golden_line(&mut s, name);
    }
    s.push_str("];\n\n");
    s.push_str(&format!(
        "/// The SDF models (3 → 1, a torus) and their host outputs (signed distances in mesh units,\n\
         /// negative inside) at the query points [`SDF_POINTS`].\n\
         pub static SDF_MODELS: [GoldenModel; {}] = [\n",
        SDF_MODELS.len()
    ));
    for name in SDF_MODELS {
        golden_line(&mut s, name);
    }
    s.push_str("];\n\n");
    s.push_str(&format!(
        "/// The budget-fitted image models (`vi3nr fit --budget 2K`) and their host outputs at every\n\
         /// pixel of the {RENDER_N} × {RENDER_N} image, pixel `k` at `(RENDER_GRID[k % {RENDER_N}], RENDER_GRID[k / {RENDER_N}])`.\n\
         pub static RENDER_MODELS: [GoldenModel; {}] = [\n",
        RENDER_MODELS.len()
    ));
    for name in RENDER_MODELS {
        golden_line(&mut s, name);
    }
    s.push_str("];\n\n");
    s.push_str("/// The rendered image's coordinates per axis (f32 bits).\n");
    s.push_str(&format!("pub const RENDER_GRID: [u32; {RENDER_N}] = [\n"));
    hex_rows(&mut s, &render_grid().map(f32::to_bits), 4, 8);
    s.push_str("];\n\n");
    s.push_str(&format!(
        "/// The SDF query points in [−1, 1]³ (f32 bits of x, y, z; a xorshift32 stream, see the\n\
         /// generator).\npub const SDF_POINTS: [[u32; 3]; {SDF_POINTS}] = [\n"
    ));
    for row in sdf_points().chunks(2) {
        s.push_str("   ");
        for p in row {
            let [x, y, z] = p.map(f32::to_bits);
            write!(s, " [0x{x:08x}, 0x{y:08x}, 0x{z:08x}],").unwrap();
        }
        s.push('\n');
    }
    s.push_str("];\n\n");

    let plan = plan();
    let f = |x: f64| format!("0x{:016x}", x.to_bits());
    writeln!(s, "/// Widths of the init-plan network (five weight matrices).").unwrap();
    writeln!(s, "pub const PLAN_WIDTHS: [usize; {}] = {PLAN_WIDTHS:?};", PLAN_WIDTHS.len())
        .unwrap();
    writeln!(s, "/// Gaussian width `a` of its activation (f64 bits).").unwrap();
    writeln!(s, "pub const PLAN_GAUSSIAN_A: u64 = {};", f(PLAN_GAUSSIAN_A)).unwrap();
    writeln!(s, "/// Bias fraction ρ (f64 bits).").unwrap();
    writeln!(s, "pub const PLAN_BIAS_FRACTION: u64 = {};", f(PLAN_BIAS_FRACTION)).unwrap();
    writeln!(
        s,
        "/// Host plan: σ_p (the root, {:.9}), ratio, cond(σ_p), hidden gain² (f64 bits).",
        plan.sigma_p
    )
    .unwrap();
    writeln!(
        s,
        "pub const PLAN_GLOBAL: [u64; 4] = [{}, {}, {}, {}];",
        f(plan.sigma_p),
        f(plan.ratio),
        f(plan.condition.unwrap()),
        f(plan.gain2.unwrap())
    )
    .unwrap();
    writeln!(s, "/// Host plan per matrix: gain², std, bound, bias bound, condition (NaN for the first) (f64 bits).").unwrap();
    writeln!(s, "pub const PLAN_LAYERS: [[u64; 5]; {}] = [", plan.layers.len()).unwrap();
    for l in &plan.layers {
        let bias = match l.bias {
            BiasInit::Zero => 0.0,
            BiasInit::Uniform { bound } => bound,
        };
        writeln!(
            s,
            "    [{}, {}, {}, {}, {}],",
            f(l.gain2),
            f(l.std),
            f(l.bound),
            f(bias),
            f(l.condition.unwrap_or(f64::NAN))
        )
        .unwrap();
    }
    s.push_str("];\n");
    s
}

/// The init plan of the 5-matrix Gaussian network (the device builds the same one).
pub fn plan() -> Plan<8> {
    Plan::new(&PlanSpec {
        widths: &PLAN_WIDTHS,
        activations: &[Act::gaussian(PLAN_GAUSSIAN_A).unwrap()],
        input: &[InputStats::uniform(-1.0, 1.0)],
        sigma_p: SigmaP::Auto(None),
        first_sigma: FirstSigma::SigmaP,
        bias: BiasScheme::Fraction(PLAN_BIAS_FRACTION),
        solve: SolveOptions::default(),
    })
    .unwrap()
}

#[allow(dead_code)]
fn main() {
    let path = firmware_dir().join("src/goldens.rs");
    std::fs::write(&path, render()).unwrap();
    for (name, bytes) in outputs() {
        std::fs::write(firmware_dir().join(format!("models/{name}.out")), bytes).unwrap();
    }
    println!("wrote {}", path.display());
}
