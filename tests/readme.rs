//! The README's "Using Gatehouse from your own app" shows
//! `examples/myapp/src/lib.rs` (which `.ci/example` builds and tests from an
//! empty folder): this keeps the two the same.

#[test]
fn the_readme_example_is_the_compiled_one() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/examples/myapp/src/lib.rs")).unwrap();
    let section = readme
        .split("## Using Gatehouse from your own app")
        .nth(1)
        .expect("the README has the section");
    let code = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a Rust block");
    // The example is the block, after its opening comment.
    let body = example
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        body.trim(),
        code.trim(),
        "README and examples/myapp/src/lib.rs differ"
    );
}

/// Every image the README shows exists (the screenshots in `docs/screenshots`).
#[test]
fn every_readme_image_exists() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let images: Vec<&str> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".png") || target.ends_with(".svg"))
        .collect();
    assert!(!images.is_empty(), "the README shows screenshots");
    let missing: Vec<&&str> = images
        .iter()
        .filter(|path| !std::path::Path::new(root).join(path).is_file())
        .collect();
    assert!(missing.is_empty(), "README images missing: {missing:?}");
}
