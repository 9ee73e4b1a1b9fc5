//! Reading and checking a spec folder: strict JSON, meta-schemas, shared-platform imports and the
//! cross-file rules typify and serde cannot see (duplicate names and codes, dangling type names).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::json::{JsonError, escape_token, parse_strict};

/// A spec the generator refuses, located by file and JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// File, relative to the workspace (`specs/itniotech/errors.json`).
    pub file: String,
    /// JSON pointer inside the file (empty for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

/// Kind of a status table: which class vocabulary its codes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// Codes classed with `ErrorClass`.
    Response,
    /// Codes classed with `DeliveryClass`.
    Delivery,
}

/// One code of a status table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Code {
    /// The code as the vendor writes it.
    pub code: String,
    /// UpperCamelCase variant name.
    pub name: String,
    /// Meaning in English.
    pub meaning: String,
    /// The vendor's own wording.
    pub original: String,
    /// Class name (`auth`, `delivered`, ...).
    pub class: String,
}

/// A status table: one generated enum.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Table {
    /// Enum name.
    pub name: String,
    /// Class vocabulary.
    pub kind: TableKind,
    /// Doc text.
    pub description: String,
    /// Codes in table order.
    pub codes: Vec<Code>,
}

/// Limits of an operation, as written in `operations.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsSpec {
    /// Most numbers.
    pub max_numbers: Option<u64>,
    /// Most items.
    pub max_items: Option<u64>,
    /// Most content characters.
    pub max_content_chars: Option<u64>,
    /// Most sender-id characters.
    pub max_sender_id_chars: Option<u64>,
    /// Most ids.
    pub max_ids: Option<u64>,
}

/// HTTP method of an operation: a closed set, so an unknown method is refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MethodSpec {
    /// `GET`.
    #[serde(rename = "GET")]
    Get,
    /// `POST`.
    #[serde(rename = "POST")]
    Post,
}

impl MethodSpec {
    /// As written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Request encoding of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingSpec {
    /// A JSON body.
    Json,
    /// A query string.
    Query,
    /// A form-urlencoded POST body.
    Form,
}

/// Encoding of a push body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushEncodingSpec {
    /// A JSON object.
    Json,
    /// Form fields.
    Form,
}

/// The auth schemes the generator knows: each name maps to the signer type that implements it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SchemeSpec {
    /// `key-secret-timestamp-md5` (the onbuka platform; signer in `smsgate-onbuka`).
    #[serde(rename = "key-secret-timestamp-md5")]
    KeySecretTimestampMd5,
    /// `nxcloud-header-body-md5` (signer in `smsgate-nxcloud`).
    #[serde(rename = "nxcloud-header-body-md5")]
    NxcloudHeaderBodyMd5,
    /// `http-basic`: HTTP Basic authentication (RFC 7617; signer in `smsgate-transport`).
    #[serde(rename = "http-basic")]
    HttpBasic,
    /// `vonage-key-secret`: `api_key` and `api_secret` as parameters (signer in
    /// `smsgate-vonage`).
    #[serde(rename = "vonage-key-secret")]
    VonageKeySecret,
    /// `vonage-signature`: `timestamp` and `sig` over the sorted parameters (signer in
    /// `smsgate-vonage`).
    #[serde(rename = "vonage-signature")]
    VonageSignature,
}

impl SchemeSpec {
    /// The name as `operations.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::KeySecretTimestampMd5 => "key-secret-timestamp-md5",
            Self::NxcloudHeaderBodyMd5 => "nxcloud-header-body-md5",
            Self::HttpBasic => "http-basic",
            Self::VonageKeySecret => "vonage-key-secret",
            Self::VonageSignature => "vonage-signature",
        }
    }

    /// Path of the signer type, from the vendor crate that uses it.
    pub fn signer_path(self) -> &'static str {
        match self {
            Self::KeySecretTimestampMd5 => "::smsgate_onbuka::sign::KeySecretTimestampMd5",
            Self::NxcloudHeaderBodyMd5 => "crate::sign::NxcloudHeaderBodyMd5",
            Self::HttpBasic => "::smsgate_transport::sign::HttpBasic",
            Self::VonageKeySecret => "crate::sign::VonageKeySecret",
            Self::VonageSignature => "crate::sign::VonageSignature",
        }
    }
}

/// `auth` of `operations.json`: the scheme and which settings are its key and secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Scheme.
    pub scheme: SchemeSpec,
    /// Setting that is the key (travels in requests).
    pub key: String,
    /// Setting that is the secret.
    pub secret: String,
    /// Setting that chooses the scheme's variant (a hash algorithm), if it has variants.
    pub variant: Option<String>,
    /// A second auth mode, used when its `when` setting is set.
    pub alternative: Option<AlternativeAuthSpec>,
}

/// `auth.alternative` of `operations.json`: a second auth mode (Twilio's API keys, Vonage's
/// signed requests), chosen per account when its `when` setting is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlternativeAuthSpec {
    /// The setting whose presence chooses this mode.
    pub when: String,
    /// Scheme.
    pub scheme: SchemeSpec,
    /// Setting that is the key.
    pub key: String,
    /// Setting that is the secret.
    pub secret: String,
    /// Setting that chooses the scheme's variant.
    pub variant: Option<String>,
}

/// One account setting of `operations.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingSpec {
    /// snake_case key (config file key; environment `<PREFIX>_<KEY>`).
    pub key: String,
    /// One line.
    pub doc: String,
    /// Never printed.
    #[serde(default)]
    pub secret: bool,
    /// A client cannot be built without it (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// Top-level body field the client fills with this setting when the caller leaves it empty.
    pub body: Option<String>,
    /// Operation whose path this setting replaces.
    pub path: Option<String>,
    /// The `{name}` placeholder of operation paths this setting fills (`AccountSid`).
    pub path_param: Option<String>,
    /// The values the setting may take (an optional setting left unset takes none).
    pub values: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// Where an answer carries its status code and reason (top-level fields of every response).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSpec {
    /// Field holding the code of the operation's status table.
    pub code: String,
    /// Field holding the reason text, if the vendor sends one.
    pub reason: Option<String>,
}

/// `errorAnswer` of `operations.json`: the type of a 4xx answer's body and where it carries a
/// code of the status table and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorAnswerSpec {
    /// Model type of the body.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Field holding the code.
    pub code: String,
    /// Field holding the reason text.
    pub reason: String,
}

/// One operation of `operations.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationSpec {
    /// lowerCamelCase name.
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// HTTP method.
    pub method: MethodSpec,
    /// Base URL override.
    pub base_url: Option<String>,
    /// Path.
    pub path: String,
    /// How the request travels.
    pub encoding: EncodingSpec,
    /// Request type name.
    pub request: String,
    /// Response type name.
    pub response: String,
    /// Status table name.
    pub status_table: String,
    /// Fixed headers.
    #[serde(default)]
    pub fixed_headers: BTreeMap<String, String>,
    /// Limits.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Only the main auth mode signs it (the alternative's scheme does not apply).
    #[serde(default)]
    pub main_auth_only: bool,
    /// Free note.
    pub note: Option<String>,
}

/// One push of `operations.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PushSpec {
    /// lowerCamelCase name.
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// How the push body travels.
    pub encoding: PushEncodingSpec,
    /// Body type name.
    pub body: String,
    /// How the receiver acknowledges it.
    pub ack: PushAckSpec,
    /// Whether the vendor signs it.
    pub signature: PushSignatureSpec,
    /// Free note.
    pub note: Option<String>,
}

/// The answer a push receiver gives a push it took.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PushAckSpec {
    /// HTTP status (2xx).
    pub status: u16,
    /// Content type of the body, if any.
    pub content_type: Option<String>,
    /// Body (empty when absent).
    pub body: Option<String>,
}

/// Whether a vendor signs its pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushSignatureSpec {
    /// Never: a receiver takes them only under an unguessable path.
    Never,
    /// Always.
    Always,
    /// When the account turned signing on.
    Optional,
}

/// `operations.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationsSpec {
    /// Vendor name.
    pub vendor: String,
    /// Sources.
    pub sources: Vec<String>,
    /// Auth scheme and the settings its signer takes.
    pub auth: AuthSpec,
    /// The account settings a client needs (besides the base URL).
    pub settings: Vec<SettingSpec>,
    /// Where an answer carries its status code and reason; absent when answers carry no
    /// call-level code (any 2xx answer that decodes succeeded).
    pub answer: Option<AnswerSpec>,
    /// The body a vendor sends with a 4xx refusal, if it sends a typed one.
    pub error_answer: Option<ErrorAnswerSpec>,
    /// Default base URL.
    pub base_url: String,
    /// Operations.
    pub operations: Vec<OperationSpec>,
    /// Pushes.
    #[serde(default)]
    pub pushes: Vec<PushSpec>,
}

/// Everything read from one vendor folder, checked.
#[derive(Debug, Clone)]
pub struct VendorSpec {
    /// Folder name, which is also the vendor name.
    pub vendor: String,
    /// Self-contained draft-07 schema: the vendor's definitions with shared-platform imports inlined.
    pub bundled_models: Value,
    /// Definitions taken from a shared platform: type name → platform folder.
    pub imports: BTreeMap<String, String>,
    /// Status tables, inherited ones merged.
    pub tables: Vec<Table>,
    /// Endpoint metadata.
    pub operations: OperationsSpec,
}

/// A shared platform folder (models but no `operations.json`): its types get a crate of their own
/// that the vendors built on it re-export.
#[derive(Debug, Clone)]
pub struct PlatformSpec {
    /// Folder name.
    pub name: String,
    /// Self-contained draft-07 schema of the platform's definitions.
    pub bundled_models: Value,
}

/// Reads spec folders below one `specs/` directory.
pub struct SpecReader {
    root: PathBuf,
    display_root: String,
    /// The three meta-schemas and draft-07's own, compiled.
    schemas: boon::Schemas,
    models_meta: boon::SchemaIndex,
    errors_meta: boon::SchemaIndex,
    operations_meta: boon::SchemaIndex,
    draft7: boon::SchemaIndex,
}

/// The failures of a validation, deepest instance location first (an `allOf` or `$ref` repeats
/// the real culprit higher up): `(pointer, message)` of each leaf.
fn validation_failures(error: &boon::ValidationError<'_, '_>) -> Vec<(String, String)> {
    fn leaves(error: &boon::ValidationError<'_, '_>, into: &mut Vec<(String, String)>) {
        walk(error, "", into);
    }
    // `parent` is where the enclosing error is. boon 0.6 leaves a `propertyNames` failure
    // without its object's location (the name is said in the message instead).
    fn walk(error: &boon::ValidationError<'_, '_>, parent: &str, into: &mut Vec<(String, String)>) {
        let at = error.instance_location.to_string();
        // A name breaking `propertyNames` is the offending value: point at it, say what it
        // breaks.
        if let boon::ErrorKind::PropertyName { prop } = &error.kind {
            let pointer = parent.to_owned();
            let mut why = Vec::new();
            for cause in &error.causes {
                leaves(cause, &mut why);
            }
            let why: Vec<String> = why.into_iter().map(|(_, message)| message).collect();
            into.push((
                pointer,
                format!("invalid name {prop:?}: {}", why.join("; ")),
            ));
            return;
        }
        for cause in &error.causes {
            walk(cause, &at, into);
        }
        if error.causes.is_empty() {
            into.push((at, error.kind.to_string()));
        }
    }
    let mut found = Vec::new();
    leaves(error, &mut found);
    found.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
    found
}

const MODELS_FILE: &str = "models.schema.json";
const ERRORS_FILE: &str = "errors.json";
const OPERATIONS_FILE: &str = "operations.json";

impl SpecReader {
    /// Opens `specs_dir`, compiling the three meta-schemas found there.
    pub fn new(specs_dir: &Path) -> Result<Self, SpecError> {
        let display_root = specs_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "specs".to_owned());
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V7);
        let mut compile = |rel: &str| {
            let file = format!("{display_root}/{rel}");
            let schema = read_json_at(specs_dir, &display_root, rel)?;
            let location = format!("urn:smsgate:specs:{rel}");
            let compiled = match compiler.add_resource(&location, schema) {
                Ok(()) => compiler.compile(&location, &mut schemas),
                Err(err) => Err(err),
            };
            compiled.map_err(|err| {
                let (pointer, message) = match &err {
                    boon::CompileError::ValidationError { src, .. } => validation_failures(src)
                        .into_iter()
                        .next()
                        .unwrap_or_default(),
                    other => (String::new(), other.to_string()),
                };
                SpecError {
                    file,
                    pointer,
                    message: format!("not a usable meta-schema: {message}"),
                }
            })
        };
        let models_meta = compile("models.meta.schema.json")?;
        let errors_meta = compile("errors.meta.schema.json")?;
        let operations_meta = compile("operations.meta.schema.json")?;
        // Draft-07's meta-schema, which boon carries: a models file must be a valid schema.
        let draft7 = compiler
            .compile("http://json-schema.org/draft-07/schema", &mut schemas)
            .map_err(|err| SpecError {
                file: display_root.clone(),
                pointer: String::new(),
                message: format!("cannot load the draft-07 meta-schema: {err}"),
            })?;
        Ok(Self {
            schemas,
            models_meta,
            errors_meta,
            operations_meta,
            draft7,
            root: specs_dir.to_path_buf(),
            display_root,
        })
    }

    /// Vendor folders: those holding an `operations.json`, sorted by name.
    pub fn vendors(&self) -> Result<Vec<String>, SpecError> {
        let entries = fs::read_dir(&self.root).map_err(|err| SpecError {
            file: self.display_root.clone(),
            pointer: String::new(),
            message: format!("cannot list the specs folder: {err}"),
        })?;
        let mut vendors = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join(OPERATIONS_FILE).is_file() {
                vendors.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        vendors.sort();
        Ok(vendors)
    }

    /// Shared platform folders: those with a `models.schema.json` but no `operations.json`.
    pub fn platforms(&self) -> Result<Vec<String>, SpecError> {
        let entries = fs::read_dir(&self.root).map_err(|err| SpecError {
            file: self.display_root.clone(),
            pointer: String::new(),
            message: format!("cannot list the specs folder: {err}"),
        })?;
        let mut platforms = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join(MODELS_FILE).is_file() && !path.join(OPERATIONS_FILE).is_file() {
                platforms.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        platforms.sort();
        Ok(platforms)
    }

    /// Reads and checks one vendor folder.
    pub fn read_vendor(&self, vendor: &str) -> Result<VendorSpec, SpecError> {
        let (bundled_models, imports) = self.bundle_models(vendor)?;
        let tables = self.read_tables(vendor)?;
        let operations = self.read_operations(vendor, &bundled_models, &tables)?;
        Ok(VendorSpec {
            vendor: vendor.to_owned(),
            bundled_models,
            imports,
            tables,
            operations,
        })
    }

    /// Reads and checks one shared platform folder.
    pub fn read_platform(&self, name: &str) -> Result<PlatformSpec, SpecError> {
        let (bundled_models, imports) = self.bundle_models(name)?;
        if let Some(imported) = imports.keys().next() {
            return Err(self.error(
                &format!("{name}/{MODELS_FILE}"),
                format!("/definitions/{}", escape_token(imported)),
                "a shared platform spec cannot itself import types",
            ));
        }
        Ok(PlatformSpec {
            name: name.to_owned(),
            bundled_models,
        })
    }

    /// The request types (and what they hold) that the vendors built on `platform` take from it:
    /// the platform crate generates their borrowed bodies.
    pub fn platform_request_roots(&self, platform: &str) -> Result<BTreeSet<String>, SpecError> {
        let mut roots = BTreeSet::new();
        for vendor in self.vendors()? {
            let spec = self.read_vendor(&vendor)?;
            for op in &spec.operations.operations {
                if spec.imports.get(&op.request).map(String::as_str) == Some(platform) {
                    roots.insert(op.request.clone());
                }
            }
        }
        Ok(roots)
    }

    fn display(&self, rel: &str) -> String {
        format!("{}/{}", self.display_root, rel)
    }

    fn error(
        &self,
        rel: &str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> SpecError {
        SpecError {
            file: self.display(rel),
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    fn read_json(&self, rel: &str) -> Result<Value, SpecError> {
        read_json_at(&self.root, &self.display_root, rel)
    }

    fn check_meta(
        &self,
        validator: boon::SchemaIndex,
        value: &Value,
        rel: &str,
        meta: &str,
    ) -> Result<(), SpecError> {
        let Err(error) = self.schemas.validate(value, validator) else {
            return Ok(());
        };
        let (pointer, message) = validation_failures(&error)
            .into_iter()
            .next()
            .unwrap_or_default();
        Err(self.error(rel, pointer, format!("breaks specs/{meta}: {message}")))
    }

    fn read_models_file(&self, rel: &str) -> Result<Value, SpecError> {
        let value = self.read_json(rel)?;
        if let Err(error) = self.schemas.validate(&value, self.draft7) {
            let (pointer, message) = validation_failures(&error)
                .into_iter()
                .next()
                .unwrap_or_default();
            return Err(self.error(
                rel,
                pointer,
                format!("not a valid draft-07 JSON Schema: {message}"),
            ));
        }
        self.check_meta(self.models_meta, &value, rel, "models.meta.schema.json")?;
        Ok(value)
    }

    /// Builds the folder's self-contained schema, importing shared-platform definitions; also
    /// returns which definitions were imported, and from which platform folder.
    fn bundle_models(&self, vendor: &str) -> Result<(Value, BTreeMap<String, String>), SpecError> {
        let rel = format!("{vendor}/{MODELS_FILE}");
        let root = self.read_models_file(&rel)?;
        let mut sources: Vec<Value> = root["x-sources"].as_array().cloned().unwrap_or_default();
        let mut bundle = Bundle::default();
        let definitions = root["definitions"].as_object().cloned().unwrap_or_default();
        let mut imported_files: BTreeMap<String, Map<String, Value>> = BTreeMap::new();

        for (name, schema) in &definitions {
            let pointer = format!("/definitions/{}", escape_token(name));
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let (file, target) = split_external_ref(reference).ok_or_else(|| {
                        self.error(
                            &rel,
                            format!("{pointer}/$ref"),
                            "not a shared-platform reference",
                        )
                    })?;
                    if target != name {
                        return Err(self.error(
                            &rel,
                            format!("{pointer}/$ref"),
                            format!("a shared type is taken under its own name: expected .../definitions/{name}, found {target}"),
                        ));
                    }
                    if !imported_files.contains_key(&file) {
                        let shared = self.read_models_file(&file)?;
                        for source in shared["x-sources"].as_array().into_iter().flatten() {
                            if !sources.contains(source) {
                                sources.push(source.clone());
                            }
                        }
                        let shared_defs = shared["definitions"]
                            .as_object()
                            .cloned()
                            .unwrap_or_default();
                        for (shared_name, shared_schema) in &shared_defs {
                            if shared_schema.get("$ref").is_some() {
                                return Err(self.error(
                                    &file,
                                    format!("/definitions/{}", escape_token(shared_name)),
                                    "a shared platform spec cannot itself import types",
                                ));
                            }
                        }
                        imported_files.insert(file.clone(), shared_defs);
                    }
                    let shared_defs = &imported_files[&file];
                    self.import(&mut bundle, &file, shared_defs, target)?;
                }
                None => bundle.add(self, &rel, name, schema.clone())?,
            }
        }

        // Every local reference must resolve inside the bundle.
        for (name, (origin, schema)) in &bundle.definitions {
            let mut refs = Vec::new();
            collect_refs(
                schema,
                &format!("/definitions/{}", escape_token(name)),
                &mut refs,
            );
            for (pointer, reference) in refs {
                let Some(target) = reference.strip_prefix("#/definitions/") else {
                    return Err(self.error(origin, pointer, format!("unsupported $ref {reference:?}: only #/definitions/<Name> inside a definition")));
                };
                if !bundle.definitions.contains_key(target) {
                    return Err(self.error(
                        origin,
                        pointer,
                        format!("$ref to undefined type {target:?}"),
                    ));
                }
            }
        }
        bundle.check_titles(self)?;

        let mut out = Map::new();
        out.insert(
            "$schema".into(),
            Value::String("http://json-schema.org/draft-07/schema#".into()),
        );
        out.insert(
            "$comment".into(),
            Value::String(format!(
                "@generated by cargo xtask gen from {}/{vendor}; do not edit. Self-contained: shared-platform types are inlined.",
                self.display_root
            )),
        );
        out.insert("x-sources".into(), Value::Array(sources));
        let imports = bundle
            .definitions
            .iter()
            .filter(|(_, (origin, _))| *origin != rel)
            .map(|(name, (origin, _))| {
                let platform = origin.split('/').next().unwrap_or_default().to_owned();
                (name.clone(), platform)
            })
            .collect();
        out.insert(
            "definitions".into(),
            Value::Object(
                bundle
                    .definitions
                    .into_iter()
                    .map(|(name, (_, schema))| (name, schema))
                    .collect(),
            ),
        );
        Ok((Value::Object(out), imports))
    }

    fn import(
        &self,
        bundle: &mut Bundle,
        file: &str,
        shared: &Map<String, Value>,
        name: &str,
    ) -> Result<(), SpecError> {
        if bundle
            .definitions
            .get(name)
            .is_some_and(|(origin, _)| origin == file)
        {
            return Ok(());
        }
        let schema = shared.get(name).ok_or_else(|| {
            self.error(
                file,
                "/definitions",
                format!("no definition named {name:?} to share"),
            )
        })?;
        bundle.add(self, file, name, schema.clone())?;
        let mut refs = Vec::new();
        collect_refs(schema, "", &mut refs);
        for (_, reference) in refs {
            if let Some(target) = reference.strip_prefix("#/definitions/") {
                self.import(bundle, file, shared, target)?;
            }
        }
        Ok(())
    }

    fn read_tables(&self, vendor: &str) -> Result<Vec<Table>, SpecError> {
        let rel = format!("{vendor}/{ERRORS_FILE}");
        let doc = self.read_errors_file(&rel)?;
        let mut tables: Vec<(Table, Vec<(String, String)>)> = Vec::new();
        if let Some(base) = doc.get("extends").and_then(Value::as_str) {
            let base_rel = base.trim_start_matches("../").to_owned();
            let base_doc = self.read_errors_file(&base_rel)?;
            if base_doc.get("extends").is_some() {
                return Err(self.error(
                    &base_rel,
                    "/extends",
                    "a shared platform table cannot itself extend another",
                ));
            }
            self.merge_tables(&mut tables, &base_rel, &base_doc)?;
        }
        self.merge_tables(&mut tables, &rel, &doc)?;

        if let Some(overrides) = doc.get("originalWording").and_then(Value::as_object) {
            for (table_name, codes) in overrides {
                let table_pointer = format!("/originalWording/{}", escape_token(table_name));
                let Some((table, _)) = tables.iter_mut().find(|(t, _)| &t.name == table_name)
                else {
                    return Err(self.error(
                        &rel,
                        table_pointer,
                        format!("no table named {table_name:?}"),
                    ));
                };
                for (code, wording) in codes.as_object().into_iter().flatten() {
                    let Some(entry) = table.codes.iter_mut().find(|c| &c.code == code) else {
                        return Err(self.error(
                            &rel,
                            format!("{table_pointer}/{}", escape_token(code)),
                            format!("table {table_name} has no code {code:?} to reword"),
                        ));
                    };
                    entry.original = wording.as_str().unwrap_or_default().to_owned();
                }
            }
        }
        Ok(tables.into_iter().map(|(table, _)| table).collect())
    }

    fn read_errors_file(&self, rel: &str) -> Result<Value, SpecError> {
        let doc = self.read_json(rel)?;
        self.check_meta(self.errors_meta, &doc, rel, "errors.meta.schema.json")?;
        Ok(doc)
    }

    /// Adds `doc`'s tables, refusing a code or a name listed twice in one table.
    /// Each table carries, per code, where it was first listed.
    fn merge_tables(
        &self,
        tables: &mut Vec<(Table, Vec<(String, String)>)>,
        rel: &str,
        doc: &Value,
    ) -> Result<(), SpecError> {
        let parsed: Vec<Table> = serde_json::from_value(doc["tables"].clone())
            .map_err(|err| self.error(rel, "/tables", err.to_string()))?;
        for (t_index, table) in parsed.into_iter().enumerate() {
            let slot = match tables.iter().position(|(t, _)| t.name == table.name) {
                Some(slot) => {
                    if tables[slot].0.kind != table.kind {
                        return Err(self.error(
                            rel,
                            format!("/tables/{t_index}/kind"),
                            format!("table {} is inherited with another kind", table.name),
                        ));
                    }
                    slot
                }
                None => {
                    tables.push((
                        Table {
                            codes: Vec::new(),
                            ..table.clone()
                        },
                        Vec::new(),
                    ));
                    tables.len() - 1
                }
            };
            for (c_index, code) in table.codes.into_iter().enumerate() {
                let here = format!("{}#/tables/{t_index}/codes/{c_index}", self.display(rel));
                let (existing, origins) = &mut tables[slot];
                if code.name == "Unknown" {
                    return Err(self.error(
                        rel,
                        format!("/tables/{t_index}/codes/{c_index}/name"),
                        "the name Unknown is reserved for the generated fallback Unknown(raw)",
                    ));
                }
                if let Some(i) = existing.codes.iter().position(|c| c.code == code.code) {
                    return Err(self.error(
                        rel,
                        format!("/tables/{t_index}/codes/{c_index}/code"),
                        format!(
                            "error code {:?} listed twice in table {} (first at {})",
                            code.code, existing.name, origins[i].0
                        ),
                    ));
                }
                if let Some(i) = existing.codes.iter().position(|c| c.name == code.name) {
                    return Err(self.error(
                        rel,
                        format!("/tables/{t_index}/codes/{c_index}/name"),
                        format!(
                            "name {:?} used twice in table {} (first at {})",
                            code.name, existing.name, origins[i].0
                        ),
                    ));
                }
                origins.push((here, code.code.clone()));
                existing.codes.push(code);
            }
        }
        Ok(())
    }

    fn read_operations(
        &self,
        vendor: &str,
        models: &Value,
        tables: &[Table],
    ) -> Result<OperationsSpec, SpecError> {
        let rel = format!("{vendor}/{OPERATIONS_FILE}");
        let doc = self.read_json(&rel)?;
        self.check_meta(
            self.operations_meta,
            &doc,
            &rel,
            "operations.meta.schema.json",
        )?;
        let spec: OperationsSpec =
            serde_json::from_value(doc).map_err(|err| self.error(&rel, "", err.to_string()))?;
        if spec.vendor != vendor {
            return Err(self.error(
                &rel,
                "/vendor",
                format!(
                    "vendor {:?} does not match its folder {vendor:?}",
                    spec.vendor
                ),
            ));
        }
        let has_type = |name: &str| models["definitions"].get(name).is_some();
        let mut names = BTreeSet::new();
        for (i, op) in spec.operations.iter().enumerate() {
            if !names.insert(op.name.as_str()) {
                return Err(self.error(
                    &rel,
                    format!("/operations/{i}/name"),
                    format!("operation {:?} listed twice", op.name),
                ));
            }
            for (field, ty) in [("request", &op.request), ("response", &op.response)] {
                if !has_type(ty) {
                    return Err(self.error(
                        &rel,
                        format!("/operations/{i}/{field}"),
                        format!("no type {ty:?} in {vendor}/{MODELS_FILE}"),
                    ));
                }
            }
            if !tables
                .iter()
                .any(|t| t.name == op.status_table && t.kind == TableKind::Response)
            {
                return Err(self.error(
                    &rel,
                    format!("/operations/{i}/statusTable"),
                    format!(
                        "no response table {:?} in {vendor}/{ERRORS_FILE}",
                        op.status_table
                    ),
                ));
            }
        }
        self.check_auth(&rel, &spec)?;
        if let Some(error) = &spec.error_answer {
            if !has_type(&error.type_name) {
                return Err(self.error(
                    &rel,
                    "/errorAnswer/type",
                    format!("no type {:?} in {vendor}/{MODELS_FILE}", error.type_name),
                ));
            }
        }
        for (i, op) in spec.operations.iter().enumerate() {
            let request = &models["definitions"][&op.request]["properties"];
            for param in path_params(&op.path) {
                let from_request = request[param]["x-in"].as_str() == Some("path");
                let from_settings = spec
                    .settings
                    .iter()
                    .any(|s| s.path_param.as_deref() == Some(param));
                if !from_request && !from_settings {
                    return Err(self.error(
                        &rel,
                        format!("/operations/{i}/path"),
                        format!("neither a setting nor the request fills the path parameter {{{param}}} (give a setting a \"pathParam\", or the request field `x-in: path`)"),
                    ));
                }
            }
        }
        for (i, push) in spec.pushes.iter().enumerate() {
            if !names.insert(push.name.as_str()) {
                return Err(self.error(
                    &rel,
                    format!("/pushes/{i}/name"),
                    format!("name {:?} listed twice", push.name),
                ));
            }
            let bad_header =
                push.ack.content_type.as_deref().is_some_and(|ct| {
                    ct.is_empty() || !ct.bytes().all(|b| (0x20..0x7f).contains(&b))
                });
            if !(200..300).contains(&push.ack.status) || bad_header {
                return Err(self.error(
                    &rel,
                    format!("/pushes/{i}/ack"),
                    "an ack is a 2xx status and a printable ASCII content type".to_owned(),
                ));
            }
            if push.ack.body.is_some() && push.ack.content_type.is_none() {
                return Err(self.error(
                    &rel,
                    format!("/pushes/{i}/ack"),
                    "an ack body needs its contentType".to_owned(),
                ));
            }
            if !has_type(&push.body) {
                return Err(self.error(
                    &rel,
                    format!("/pushes/{i}/body"),
                    format!("no type {:?} in {vendor}/{MODELS_FILE}", push.body),
                ));
            }
        }
        Ok(spec)
    }
}

impl SpecReader {
    /// Every setting `auth` names exists and has the right kind: keys are plain settings,
    /// secrets are secret, a variant lists its values (`when` may be either kind); without an
    /// alternative, key and secret are required; a secret setting lists no values.
    fn check_auth(&self, rel: &str, spec: &OperationsSpec) -> Result<(), SpecError> {
        let setting = |key: &str| spec.settings.iter().find(|s| s.key == key);
        if let Some(i) = spec
            .settings
            .iter()
            .position(|s| s.secret && s.values.is_some())
        {
            return Err(self.error(
                rel,
                format!("/settings/{i}/values"),
                "a secret setting lists no values (they would be printed)",
            ));
        }
        let auth = &spec.auth;
        let mut uses = vec![
            ("/auth/key", &auth.key, false),
            ("/auth/secret", &auth.secret, true),
        ];
        if let Some(variant) = &auth.variant {
            uses.push(("/auth/variant", variant, false));
        }
        if let Some(alt) = &auth.alternative {
            if setting(&alt.when).is_none() {
                return Err(self.error(
                    rel,
                    "/auth/alternative/when",
                    format!("no setting {:?}", alt.when),
                ));
            }
            uses.push(("/auth/alternative/key", &alt.key, false));
            uses.push(("/auth/alternative/secret", &alt.secret, true));
            if let Some(variant) = &alt.variant {
                uses.push(("/auth/alternative/variant", variant, false));
            }
        }
        for (at, key, secret) in uses {
            let Some(found) = setting(key) else {
                return Err(self.error(rel, at, format!("no setting {key:?}")));
            };
            if found.secret != secret {
                let kind = if secret { "secret" } else { "not secret" };
                return Err(self.error(rel, at, format!("setting {key:?} must be {kind}")));
            }
            if at.ends_with("/variant") && found.values.is_none() {
                return Err(self.error(
                    rel,
                    at,
                    format!("variant setting {key:?} lists no \"values\""),
                ));
            }
        }
        if auth.alternative.is_none() {
            for key in [&auth.key, &auth.secret] {
                if setting(key).is_some_and(|s| !s.required) {
                    return Err(self.error(
                        rel,
                        "/auth",
                        format!("setting {key:?} signs every request: it must be required"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The `{name}` placeholders of a path, in order (`/Messages/{Sid}.json` → `Sid`).
pub fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Definitions gathered for one vendor, each with the file it came from.
#[derive(Default)]
struct Bundle {
    definitions: BTreeMap<String, (String, Value)>,
}

impl Bundle {
    fn add(
        &mut self,
        reader: &SpecReader,
        origin: &str,
        name: &str,
        schema: Value,
    ) -> Result<(), SpecError> {
        if let Some((first, _)) = self.definitions.get(name) {
            return Err(reader.error(
                origin,
                format!("/definitions/{}", escape_token(name)),
                format!("two types named {name:?} (typify would silently merge them): also defined in {}", reader.display(first)),
            ));
        }
        if let Some(clash) = self
            .definitions
            .keys()
            .find(|other| type_key(other) == type_key(name))
        {
            return Err(reader.error(
                origin,
                format!("/definitions/{}", escape_token(name)),
                format!("types {name:?} and {clash:?} get the same Rust name (typify would silently merge them)"),
            ));
        }
        self.definitions
            .insert(name.to_owned(), (origin.to_owned(), schema));
        Ok(())
    }

    /// An inline `title` names a type too: it must not clash with a definition or another title.
    fn check_titles(&self, reader: &SpecReader) -> Result<(), SpecError> {
        let mut seen: BTreeMap<String, String> = self
            .definitions
            .iter()
            .map(|(name, (origin, _))| {
                (
                    type_key(name),
                    format!("{}#/definitions/{name}", reader.display(origin)),
                )
            })
            .collect();
        for (name, (origin, schema)) in &self.definitions {
            let mut titles = Vec::new();
            collect_titles(
                schema,
                &format!("/definitions/{}", escape_token(name)),
                true,
                &mut titles,
            );
            for (pointer, title) in titles {
                let key = type_key(&title);
                if let Some(first) = seen.get(&key) {
                    return Err(reader.error(
                        origin,
                        pointer,
                        format!("title {title:?} names a second type {title:?} (typify would silently merge it with {first})"),
                    ));
                }
                seen.insert(key, format!("{}#{pointer}", reader.display(origin)));
            }
        }
        Ok(())
    }
}

/// Case- and punctuation-blind form of a type name, as typify's Pascal-casing collapses them.
fn type_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn is_definition_pointer(pointer: &str) -> bool {
    let mut parts = pointer.split('/');
    parts.next() == Some("")
        && parts.next() == Some("definitions")
        && parts.next().is_some()
        && parts.next().is_none()
}

/// `../platform/models.schema.json#/definitions/Name` → (`platform/models.schema.json`, `Name`).
fn split_external_ref(reference: &str) -> Option<(String, &str)> {
    let (file, fragment) = reference.split_once('#')?;
    let file = file.strip_prefix("../")?;
    let name = fragment.strip_prefix("/definitions/")?;
    Some((file.to_owned(), name))
}

/// Every `$ref` below `schema`, with its pointer.
fn collect_refs(schema: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{pointer}/{}", escape_token(key));
                if key == "$ref" {
                    if let Some(reference) = value.as_str() {
                        out.push((here, reference.to_owned()));
                    }
                } else {
                    collect_refs(value, &here, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_refs(item, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every schema `title` below `schema` (the definition's own title included unless `is_root`
/// is false), skipping property maps whose keys are names, not keywords.
fn collect_titles(schema: &Value, pointer: &str, is_schema: bool, out: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{pointer}/{}", escape_token(key));
                match (is_schema, key.as_str(), value) {
                    (true, "title", Value::String(title)) => out.push((here, title.clone())),
                    (
                        true,
                        "properties" | "definitions" | "patternProperties",
                        Value::Object(members),
                    ) => {
                        for (member, sub) in members {
                            collect_titles(
                                sub,
                                &format!("{here}/{}", escape_token(member)),
                                true,
                                out,
                            );
                        }
                    }
                    (true, "enum" | "const" | "examples" | "default", _) => {}
                    _ => collect_titles(value, &here, true, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_titles(item, &format!("{pointer}/{i}"), true, out);
            }
        }
        _ => {}
    }
}

/// Reads `rel` (relative to the specs folder) as strict JSON.
fn read_json_at(root: &Path, display_root: &str, rel: &str) -> Result<Value, SpecError> {
    let error = |pointer: String, message: String| SpecError {
        file: format!("{display_root}/{rel}"),
        pointer,
        message,
    };
    let text = fs::read_to_string(root.join(rel))
        .map_err(|err| error(String::new(), format!("cannot read: {err}")))?;
    parse_strict(&text).map_err(|err| match err {
        JsonError::Syntax(message) => error(String::new(), format!("invalid JSON: {message}")),
        JsonError::DuplicateKey { pointer } => {
            let message = if is_definition_pointer(&pointer) {
                "two types with the same name (typify would silently merge them): the key is repeated"
            } else {
                "the key is repeated in this object"
            };
            error(pointer, message.to_owned())
        }
    })
}
