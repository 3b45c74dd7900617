//! Validates custom resources against their CRDs' structural schemas, as far as the API
//! server's schema checks and pruning go: `type`, `properties` (an unknown field is an
//! error, since the server would silently drop it, unless `x-kubernetes-preserve-unknown-fields`
//! or `additionalProperties` keep it), `required`, `enum`, `items`, `additionalProperties`
//! as a schema, `nullable` and `x-kubernetes-int-or-string`. `format`, `pattern`, bounds
//! and CEL rules are not checked. The root `metadata` is ObjectMeta, which the server
//! checks itself, so it is skipped.

use std::path::Path;

use serde_json::Value;

/// One CRD's served storage version.
#[derive(Debug, Clone)]
pub struct Crd {
    pub kind: String,
    /// `group/version`, as in an object's `apiVersion`.
    pub api_version: String,
    pub schema: Value,
}

/// Every CRD in the `*.yaml` files of `dir`.
pub fn load_dir(dir: &Path) -> Vec<Crd> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files.iter().map(|path| load_file(path)).collect()
}

pub fn load_file(path: &Path) -> Crd {
    let text = std::fs::read_to_string(path).unwrap();
    let crd: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let spec = &crd["spec"];
    let version = spec["versions"]
        .as_array()
        .expect("spec.versions")
        .iter()
        .find(|version| version["served"] == true && version["storage"] == true)
        .unwrap_or_else(|| panic!("{}: no served storage version", path.display()));
    Crd {
        kind: spec["names"]["kind"].as_str().unwrap().to_owned(),
        api_version: format!(
            "{}/{}",
            spec["group"].as_str().unwrap(),
            version["name"].as_str().unwrap()
        ),
        schema: version["schema"]["openAPIV3Schema"].clone(),
    }
}

/// `Err("<JSON path>: <problem>")` for the first place `object` does not fit `schema`.
pub fn validate(schema: &Value, object: &Value) -> Result<(), String> {
    check(schema, object, "$")
}

fn check(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let fail = |message: String| Err(format!("{path}: {message}"));
    if value.is_null() {
        return if schema["nullable"] == true {
            Ok(())
        } else {
            fail("null is not allowed".into())
        };
    }
    if schema["x-kubernetes-int-or-string"] == true {
        return if value.is_i64() || value.is_u64() || value.is_string() {
            Ok(())
        } else {
            fail(format!("expected an integer or a string, got {value}"))
        };
    }
    if let Some(expected) = schema["type"].as_str()
        && !has_type(value, expected)
    {
        return fail(format!("expected {expected}, got {value}"));
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return fail(format!(
            "{value} is not one of {}",
            Value::from(allowed.clone())
        ));
    }
    match value {
        Value::Object(fields) => check_object(schema, fields, path),
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => items.iter().enumerate().try_for_each(|(index, item)| {
                check(item_schema, item, &format!("{path}[{index}]"))
            }),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn check_object(
    schema: &Value,
    fields: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<(), String> {
    for required in schema["required"].as_array().into_iter().flatten() {
        let name = required.as_str().unwrap_or_default();
        if !fields.contains_key(name) {
            return Err(format!("{path}: missing required field `{name}`"));
        }
    }
    let keeps_unknown = schema["x-kubernetes-preserve-unknown-fields"] == true;
    for (name, value) in fields {
        let field_path = format!("{path}.{name}");
        if path == "$" && name == "metadata" {
            continue;
        }
        match (
            schema["properties"].get(name),
            schema.get("additionalProperties"),
        ) {
            (Some(field_schema), _) => check(field_schema, value, &field_path)?,
            (None, Some(Value::Bool(true))) => {}
            (None, Some(extra @ Value::Object(_))) => check(extra, value, &field_path)?,
            _ if keeps_unknown => {}
            _ => {
                return Err(format!(
                    "{field_path}: unknown field (the API server prunes it)"
                ));
            }
        }
    }
    Ok(())
}

fn has_type(value: &Value, expected: &str) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    }
}
