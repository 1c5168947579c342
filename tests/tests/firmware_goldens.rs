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
