//! The demo: every embedded model against its host goldens (the image models on the grid, the
//! SDF models at 256 query points in [−1, 1]³, with the points inside, the budget-fitted model
//! rendered at every pixel of a 64 × 64 image), the init plan against
//! the host's, instructions per point; exit status 0 when everything matches.
#![no_std]
#![no_main]

use defmt::{error, info};
use vi3nr_firmware::check::{self, tolerance};
use vi3nr_firmware::goldens::{MODELS, RENDER_MODELS, SDF_MODELS};
use vi3nr_firmware::timer::{Timer, instructions};
use vi3nr_firmware::{BOARD, POINTS, exit, stack};

#[cortex_m_rt::entry]
fn main() -> ! {
    stack::paint();
    let timer = Timer::new(cortex_m::Peripherals::take().unwrap().SYST);
    info!("vi3nr firmware demo on {=str}", BOARD);
    let mut failures = 0u32;
    for golden in &MODELS {
        match check::check_model(golden, &timer) {
            Ok(r) => {
                let per_point = instructions(r.ticks) / POINTS as u64;
                if r.passed() {
                    info!(
                        "{=str}: CRC ok, {=u32}/256 within {=f32} ({=u32} bit-exact, max |d| {=f32}), {=u64} instructions/point",
                        golden.name,
                        r.within,
                        tolerance(r.format),
                        r.exact,
                        r.max_abs_diff,
                        per_point
                    );
                } else {
                    failures += 1;
                    error!(
                        "{=str}: only {=u32}/256 within {=f32} of the host (max |d| {=f32})",
                        golden.name,
                        r.within,
                        tolerance(r.format),
                        r.max_abs_diff
                    );
                }
            }
            Err(e) => {
                failures += 1;
                error!("{=str}: {}", golden.name, e);
            }
        }
    }
    for golden in &SDF_MODELS {
        match check::check_sdf(golden, &timer) {
            Ok(r) => {
                let m = r.model;
                let per_query = instructions(m.ticks) / POINTS as u64;
                if r.passed() {
                    info!(
                        "{=str}: CRC ok, {=u32}/256 distances within {=f32} ({=u32} bit-exact, max |d| {=f32}), {=u32} inside (host {=u32}), {=u64} instructions/query",
                        golden.name,
                        m.within,
                        tolerance(m.format),
                        m.exact,
                        m.max_abs_diff,
                        r.inside,
                        r.host_inside,
                        per_query
                    );
                } else {
                    failures += 1;
                    error!(
                        "{=str}: {=u32}/256 distances within {=f32} of the host (max |d| {=f32}), {=u32}/256 on the host's side",
                        golden.name,
                        m.within,
                        tolerance(m.format),
                        m.max_abs_diff,
                        r.same_side
                    );
                }
            }
            Err(e) => {
                failures += 1;
                error!("{=str}: {}", golden.name, e);
            }
        }
    }
    for golden in &RENDER_MODELS {
        match check::check_render(golden, &timer) {
            Ok(r) if r.passed() => info!(
                "{=str} ({=str}, {=usize} bytes): rendered 64x64, {=u32}/{=u32} pixels within {=f32} of the host ({=u32} bit-exact, max |d| {=f32}), {=u64} instructions/pixel",
                golden.name,
                r.format.name(),
                golden.bytes.0.len(),
                r.within,
                r.points,
                tolerance(r.format),
                r.exact,
                r.max_abs_diff,
                instructions(r.ticks) / u64::from(r.points)
            ),
            Ok(r) => {
                failures += 1;
                error!(
                    "{=str}: only {=u32}/{=u32} pixels within {=f32} of the host (max |d| {=f32})",
                    golden.name,
                    r.within,
                    r.points,
                    tolerance(r.format),
                    r.max_abs_diff
                );
            }
            Err(e) => {
                failures += 1;
                error!("{=str}: {}", golden.name, e);
            }
        }
    }
    let models_stack = stack::used();
    match check::check_plan(&timer) {
        Ok(p) if p.passed() => info!(
            "init plan (gaussian:0.05, 2-32-32-32-32-1): sigma_p = {=f64} ({}), {=u32} values, max rel. diff from host {=f64}, {=u64} instructions",
            p.sigma_p,
            p.status,
            p.compared,
            p.max_rel_diff,
            instructions(u64::from(p.ticks))
        ),
        Ok(p) => {
            failures += 1;
            error!("init plan differs from the host's: {}", p);
        }
        Err(e) => {
            failures += 1;
            error!("init plan failed: {}", e);
        }
    }
    info!(
        "stack used: {=usize} bytes by the models, {=usize} with the init plan",
        models_stack,
        stack::used()
    );
    if failures == 0 {
        info!("all checks passed");
        exit(0)
    }
    error!("{=u32} checks failed", failures);
    exit(1)
}
