//! The smsgate generator: `specs/<vendor>/` → `crates/smsgate-<vendor>/src/generated/`, and the
//! facade's numbering plan ([`plan`]) from the `phonenumber` crate's metadata.
//!
//! [`generate`] reads every vendor folder (a folder of `specs/` with an `operations.json`), checks
//! it ([`spec`]), and emits Rust ([`emit`]); [`write()`] puts the files on disk and [`check()`] lists
//! the files on disk that differ, which is what `cargo xtask gen --check` fails on.

pub mod emit;
pub mod endpoints;
pub mod json;
pub mod plan;
pub mod spec;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use emit::GeneratedFile;
pub use spec::SpecError;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The spec is refused (file and JSON pointer inside).
    #[error("{0}")]
    Spec(#[from] SpecError),
    /// typify or our emitters could not turn the spec into code.
    #[error("{0}")]
    Emit(String),
    /// rustfmt is missing or failed.
    #[error("rustfmt: {0}")]
    Rustfmt(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: io::Error,
    },
}

/// A file the generator owns, with its path relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Path relative to the workspace root.
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
}

/// The folder that holds a vendor's generated files, relative to the workspace root.
pub fn generated_dir(vendor: &str) -> PathBuf {
    Path::new("crates")
        .join(format!("smsgate-{vendor}"))
        .join("src")
        .join("generated")
}

/// Generates one shared platform's files from `specs_dir/<platform>` (file names only).
pub fn generate_platform(specs_dir: &Path, platform: &str) -> Result<Vec<GeneratedFile>, GenError> {
    let reader = spec::SpecReader::new(specs_dir)?;
    let spec = reader.read_platform(platform)?;
    let roots = reader.platform_request_roots(platform)?;
    emit::emit_platform(&spec, &roots, &specs_display(specs_dir))
}

/// Generates one vendor's files from `specs_dir/<vendor>` (file names only, no paths).
pub fn generate_vendor(specs_dir: &Path, vendor: &str) -> Result<Vec<GeneratedFile>, GenError> {
    let reader = spec::SpecReader::new(specs_dir)?;
    let spec = reader.read_vendor(vendor)?;
    emit::emit_vendor(&spec, &specs_display(specs_dir))
}

/// Generates every platform's and vendor's files from `workspace/specs`, and the numbering plan.
pub fn generate(workspace: &Path) -> Result<Vec<Output>, GenError> {
    let specs_dir = workspace.join("specs");
    let reader = spec::SpecReader::new(&specs_dir)?;
    let display = specs_display(&specs_dir);
    let has_crate = |folder: &str| -> Result<(), GenError> {
        let krate = emit::platform_crate(folder);
        if workspace
            .join("crates")
            .join(&krate)
            .join("Cargo.toml")
            .is_file()
        {
            return Ok(());
        }
        Err(GenError::Emit(format!(
            "{display}/{folder} has no crate: create crates/{krate} (see README, \"Adding a vendor\") and add it to the workspace members"
        )))
    };
    let mut outputs = Vec::new();
    let mut push = |folder: &str, files: Vec<GeneratedFile>| {
        for file in files {
            outputs.push(Output {
                path: generated_dir(folder).join(&file.name),
                contents: file.contents,
            });
        }
    };
    for platform in reader.platforms()? {
        has_crate(&platform)?;
        let roots = reader.platform_request_roots(&platform)?;
        push(
            &platform,
            emit::emit_platform(&reader.read_platform(&platform)?, &roots, &display)?,
        );
    }
    for vendor in reader.vendors()? {
        has_crate(&vendor)?;
        push(
            &vendor,
            emit::emit_vendor(&reader.read_vendor(&vendor)?, &display)?,
        );
    }
    // The facade's numbering plan (a workspace without the facade, such as the tests' fixtures,
    // has none).
    if workspace.join("crates/smsgate/Cargo.toml").is_file() {
        outputs.push(plan::generate()?);
    }
    Ok(outputs)
}

fn specs_display(specs_dir: &Path) -> String {
    specs_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "specs".to_owned())
}

/// What `--check` found wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// The file on disk differs from what the specs generate.
    Differs(PathBuf),
    /// The file should exist but does not.
    Missing(PathBuf),
    /// A file in a `generated/` folder that the specs no longer produce.
    Extra(PathBuf),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Differs(path) => write!(f, "{} is stale", path.display()),
            Self::Missing(path) => write!(f, "{} is missing", path.display()),
            Self::Extra(path) => write!(f, "{} is not generated by any spec", path.display()),
        }
    }
}

fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn generated_dirs(outputs: &[Output]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = outputs
        .iter()
        .filter_map(|o| o.path.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

fn extra_files(workspace: &Path, outputs: &[Output]) -> Vec<PathBuf> {
    let mut extra = Vec::new();
    for dir in generated_dirs(outputs) {
        let Ok(entries) = fs::read_dir(workspace.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let rel = dir.join(entry.file_name());
            if !outputs.iter().any(|o| o.path == rel) {
                extra.push(rel);
            }
        }
    }
    extra.sort();
    extra
}

/// Compares `outputs` with the files on disk (newlines normalised).
pub fn check(workspace: &Path, outputs: &[Output]) -> Vec<Stale> {
    let mut stale = Vec::new();
    for output in outputs {
        match fs::read_to_string(workspace.join(&output.path)) {
            Ok(on_disk) if normalise(&on_disk) == normalise(&output.contents) => {}
            Ok(_) => stale.push(Stale::Differs(output.path.clone())),
            Err(_) => stale.push(Stale::Missing(output.path.clone())),
        }
    }
    stale.extend(
        extra_files(workspace, outputs)
            .into_iter()
            .map(Stale::Extra),
    );
    stale
}

/// Writes `outputs` (only files whose contents change) and removes files in the generated
/// folders that no spec produces. Returns the paths written or removed.
pub fn write(workspace: &Path, outputs: &[Output]) -> Result<Vec<PathBuf>, GenError> {
    let mut changed = Vec::new();
    for output in outputs {
        let path = workspace.join(&output.path);
        if fs::read_to_string(&path).is_ok_and(|on_disk| on_disk == output.contents) {
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| GenError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::write(&path, &output.contents).map_err(|source| GenError::Io {
            path: path.clone(),
            source,
        })?;
        changed.push(output.path.clone());
    }
    for extra in extra_files(workspace, outputs) {
        let path = workspace.join(&extra);
        fs::remove_file(&path).map_err(|source| GenError::Io { path, source })?;
        changed.push(extra);
    }
    Ok(changed)
}
