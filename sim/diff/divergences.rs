//! `scenarios/divergences.yaml`: the known divergences between the model and a real
//! backend, each with its reason.
//!
//! ```yaml
//! divergences:
//!   - backend: wine-8.0            # the backend's name as `wsasim diff` prints it
//!     scenario: fionread/x.yaml    # a path suffix of the scenario file
//!     step: 4                      # the step number, from 1
//!     field: bytes_returned        # the compared field
//!     model: "0"                   # the model's value, as the report prints it
//!     real: untouched              # the real backend's value, as printed
//!     reason: "Windows observation W036 (todo_wine): ..."
//! ```
//! A bad file is a [`ScenarioError`] naming the file, line and column.

use serde_yaml::Value;

use super::FIELDS;
use crate::scenario::locate::{Locator, Pos, Seg};
use crate::scenario::ScenarioError;

/// One known divergence.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Divergence {
    /// Where the entry starts in the file.
    pub pos: Pos,
    /// The backend name (`wine-8.0`, `windows-10.0.22631`).
    pub backend: String,
    /// A path suffix of the scenario file (`fionread/x.yaml`).
    pub scenario: String,
    /// The step number, from 1.
    pub step: usize,
    /// The field (`result`, `error`, `bytes_returned`, `out`, ...).
    pub field: String,
    /// The model's value, as the report prints it.
    pub model: String,
    /// The real backend's value, as the report prints it.
    pub real: String,
    /// Why they differ, with the evidence that the model follows Windows.
    pub reason: String,
}

impl Divergence {
    /// True when the entry is about this backend: the same name, or a name that
    /// continues it after a `.` or `-` (`wine-8.0` covers `wine-8.0.1`).
    pub fn covers_backend(&self, backend: &str) -> bool {
        backend == self.backend
            || backend
                .strip_prefix(self.backend.as_str())
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
    }

    /// True when the entry is about this scenario file: the file's path, with `\` read
    /// as `/`, ends with the entry's path at a path-component boundary.
    pub fn covers_file(&self, file: &str) -> bool {
        let file = file.replace('\\', "/");
        let want = self.scenario.replace('\\', "/");
        file == want
            || file
                .strip_suffix(want.as_str())
                .is_some_and(|head| head.ends_with('/'))
    }
}

const KEYS: [&str; 7] = [
    "backend", "scenario", "step", "field", "model", "real", "reason",
];

/// Parses the divergences file. `file` names it in errors.
pub fn parse_divergences(file: &str, text: &str) -> Result<Vec<Divergence>, ScenarioError> {
    let loc = Locator::new(text);
    let err = |pos: Pos, message: String| ScenarioError {
        file: file.to_string(),
        line: pos.line.max(1),
        column: pos.col.max(1),
        message,
    };
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        let (line, col) = e
            .location()
            .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
        err(Pos { line, col }, format!("not valid YAML: {e}"))
    })?;
    let top = match &doc {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        _ => {
            return Err(err(
                Pos { line: 1, col: 1 },
                "expected a map with the key `divergences`".into(),
            ))
        }
    };
    for (k, _) in top {
        let name = k.as_str().unwrap_or("");
        if name != "divergences" {
            return Err(err(
                loc.key(&[Seg::Key(name)]),
                format!("unknown key `{name}` (expected `divergences`)"),
            ));
        }
    }
    let list = match top.get("divergences") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(s)) => s,
        Some(_) => {
            return Err(err(
                loc.value(&[Seg::Key("divergences")]),
                "`divergences`: expected a list of entries".into(),
            ))
        }
    };
    let items = loc.items(&[Seg::Key("divergences")]);
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = |key: &'static str| [Seg::Key("divergences"), Seg::Index(i), Seg::Key(key)];
        let start = items
            .get(i)
            .copied()
            .unwrap_or_else(|| loc.key(&[Seg::Key("divergences"), Seg::Index(i)]));
        let Value::Mapping(m) = item else {
            return Err(err(start, "expected an entry (a map)".into()));
        };
        for (k, _) in m {
            let name = k.as_str().unwrap_or("");
            if !KEYS.contains(&name) {
                return Err(err(
                    loc.key(&[Seg::Key("divergences"), Seg::Index(i), Seg::Key(name)]),
                    format!("unknown key `{name}` (expected one of {})", KEYS.join(", ")),
                ));
            }
        }
        let text = |key: &'static str| -> Result<String, ScenarioError> {
            match m.get(key) {
                None => Err(err(start, format!("the entry has no `{key}`"))),
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(Value::Number(n)) if key == "model" || key == "real" => Ok(n.to_string()),
                Some(Value::Bool(b)) if key == "model" || key == "real" => Ok(b.to_string()),
                Some(_) => Err(err(
                    loc.value(&at(key)),
                    format!("`{key}`: expected a non-empty string"),
                )),
            }
        };
        let step = match m.get("step") {
            None => return Err(err(start, "the entry has no `step`".into())),
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => n as usize,
                _ => {
                    return Err(err(
                        loc.value(&at("step")),
                        "`step`: expected a step number from 1".into(),
                    ))
                }
            },
        };
        let field = text("field")?;
        if !FIELDS.contains(&field.as_str()) {
            return Err(err(
                loc.value(&at("field")),
                format!(
                    "`field`: unknown field `{field}` (expected one of {})",
                    FIELDS.join(", ")
                ),
            ));
        }
        let d = Divergence {
            pos: start,
            backend: text("backend")?,
            scenario: text("scenario")?,
            step,
            field,
            model: text("model")?,
            real: text("real")?,
            reason: text("reason")?,
        };
        if d.reason.trim().len() < 20 {
            return Err(err(
                loc.value(&at("reason")),
                "`reason`: give the evidence (a Windows observation or document) in a sentence"
                    .into(),
            ));
        }
        out.push(d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# known divergences
divergences:
  - backend: wine-8.0
    scenario: fionread/stream.yaml
    step: 4
    field: bytes_returned
    model: \"0\"
    real: untouched
    reason: \"Windows observation W036: Windows writes 0, Wine leaves it untouched\"
";

    #[test]
    fn a_well_formed_entry_is_read_with_its_position() {
        let d = parse_divergences("d.yaml", GOOD).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pos.line, 3);
        assert_eq!(d[0].step, 4);
        assert_eq!(d[0].model, "0");
        assert_eq!(d[0].real, "untouched");
    }

    #[test]
    fn an_empty_file_and_an_empty_list_have_no_entries() {
        assert!(parse_divergences("d.yaml", "").unwrap().is_empty());
        assert!(parse_divergences("d.yaml", "divergences: []\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn an_unknown_key_is_reported_at_its_line_and_column() {
        let bad = GOOD.replace("    field:", "    feild: x\n    field:");
        let e = parse_divergences("d.yaml", &bad).unwrap_err();
        assert_eq!((e.line, e.column), (6, 5), "{e}");
        assert!(e.to_string().starts_with("d.yaml:6:5: unknown key `feild`"));
    }

    #[test]
    fn a_step_that_is_not_a_positive_number_is_reported_at_the_value() {
        let bad = GOOD.replace("step: 4", "step: zero");
        let e = parse_divergences("d.yaml", &bad).unwrap_err();
        assert_eq!((e.line, e.column), (5, 11), "{e}");
    }

    #[test]
    fn an_unknown_field_name_is_refused() {
        let bad = GOOD.replace("field: bytes_returned", "field: colour");
        let e = parse_divergences("d.yaml", &bad).unwrap_err();
        assert_eq!(e.line, 6);
        assert!(e.message.contains("unknown field `colour`"));
    }

    #[test]
    fn an_entry_without_a_reason_is_refused() {
        let bad: String = GOOD
            .lines()
            .filter(|l| !l.contains("reason"))
            .map(|l| format!("{l}\n"))
            .collect();
        let e = parse_divergences("d.yaml", &bad).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("no `reason`"));
    }

    #[test]
    fn broken_yaml_is_reported_with_a_position() {
        let e = parse_divergences("d.yaml", "divergences:\n  - [unclosed\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
        assert!(e.message.contains("not valid YAML"));
    }

    #[test]
    fn backend_names_match_exactly_or_by_a_versioned_prefix() {
        let d = &parse_divergences("d.yaml", GOOD).unwrap()[0];
        assert!(d.covers_backend("wine-8.0"));
        assert!(d.covers_backend("wine-8.0.1"));
        assert!(!d.covers_backend("wine-8.01"));
        assert!(!d.covers_backend("windows-10.0.19045"));
    }

    #[test]
    fn scenario_paths_match_at_a_component_boundary() {
        let d = &parse_divergences("d.yaml", GOOD).unwrap()[0];
        assert!(d.covers_file("scenarios/fionread/stream.yaml"));
        assert!(d.covers_file("scenarios\\fionread\\stream.yaml"));
        assert!(!d.covers_file("scenarios/xfionread/stream.yaml"));
    }
}
