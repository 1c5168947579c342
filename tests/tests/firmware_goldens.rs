//! The firmware demo's goldens (`firmware-demo/src/goldens.rs`, `firmware-demo/models/*.out`) are those the committed models
//! give today: recomputed here and compared as text (every float as its bit pattern).
//! Regenerate with `cargo run --release -p vi3nr-tests --example firmware_goldens`.

#[path = "../examples/firmware_goldens.rs"]
mod firmware_goldens;

#[test]
fn firmware_goldens_are_fresh() {
    let path = firmware_goldens::firmware_dir().join("src/goldens.rs");
    let committed = std::fs::read_to_string(&path).unwrap();
    let fresh = firmware_goldens::render();
    assert!(
        committed == fresh,
        "{} is stale: run `cargo run --release -p vi3nr-tests --example firmware_goldens`",
        path.display()
    );
    for (name, fresh) in firmware_goldens::outputs() {
        let path = firmware_goldens::firmware_dir().join(format!("models/{name}.out"));
        let committed = std::fs::read(&path).unwrap();
        assert!(committed == fresh, "{} is stale: regenerate as above", path.display());
    }
}

/// The SDF models are the torus they were fitted to (`mesh_bench -- torus`, R = 0.6, r = 0.25,
/// 64 × 32 quads): at the query points the host's distances (mesh units, at normalised points)
/// are close to the analytic SDF near the surface (where the fit samples densely), not far off
/// elsewhere, and their signs agree; the points reach both sides.
#[test]
fn sdf_models_answer_the_torus() {
    use vi3nr_cuda::sdf::shapes;
    let norm = shapes::torus(0.6, 0.25, 64, 32).normalisation();
    let points = firmware_goldens::sdf_points();
    assert_eq!(points.len(), 256);
    assert!(points.iter().flatten().all(|c| (-1.0..1.0).contains(c)));
    let exact: Vec<f64> = points
        .iter()
        .map(|p| shapes::torus_sdf(0.6, 0.25, norm.inverse(p.map(f64::from))))
        .collect();
    let exact_inside = exact.iter().filter(|&&d| d < 0.0).count();
    assert!((10..=100).contains(&exact_inside), "{exact_inside} of 256 points inside the torus");
    let near = exact.iter().filter(|d| d.abs() < 0.1).count();
    assert!(near >= 40, "only {near} of 256 points within 0.1 of the surface");
    let inputs: Vec<Vec<f32>> = points.iter().map(|p| p.to_vec()).collect();
    for name in firmware_goldens::SDF_MODELS {
        let y = firmware_goldens::eval_model(name, &inputs);
        let (mut err_near, mut err_all, mut agree) = (0.0f64, 0.0f64, 0);
        for (&y, &d) in y.iter().zip(&exact) {
            let e = (f64::from(y) - d).abs();
            err_all = err_all.max(e);
            if d.abs() < 0.1 {
                err_near = err_near.max(e);
            }
            agree += usize::from((y < 0.0) == (d < 0.0));
        }
        assert!(err_near < 0.02, "{name}: |SDF error| {err_near} within 0.1 of the surface");
        assert!(err_all < 0.2, "{name}: |SDF error| {err_all} (mesh units)");
        assert!(agree >= 250, "{name}: the sign agrees with the torus at only {agree} of 256");
    }
}
