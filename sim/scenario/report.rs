//! Reports of a run: human text, JSON and JUnit XML. Times come from the caller (the
//! library never reads a clock).

use std::fmt::Write as _;

use super::run::ScenarioResult;

/// One finished scenario with its wall-clock time in microseconds.
#[derive(Clone, Debug)]
pub struct Timed {
    /// The result.
    pub result: ScenarioResult,
    /// Microseconds it took (0 when not measured).
    pub micros: u64,
}

/// The one line printed per scenario.
pub fn human_line(t: &Timed) -> String {
    format!(
        "{} {} ({} steps, {:.3} ms) {}",
        if t.result.passed() { "pass" } else { "FAIL" },
        t.result.name,
        t.result.steps,
        t.micros as f64 / 1000.0,
        t.result.file
    )
}

/// The failure details: file, step, line, the call, expected vs actual, the seed.
pub fn human_failure(r: &ScenarioResult) -> String {
    let mut s = String::new();
    if let Some(f) = &r.failure {
        let _ = writeln!(
            s,
            "  {}:{}: step {} (thread {})",
            r.file, f.line, f.step, f.thread
        );
        let _ = writeln!(s, "    call:   {}", f.call);
        if let Some(n) = &f.note {
            let _ = writeln!(s, "    note:   {n}");
        }
        let _ = writeln!(s, "    {}", f.reason);
        for d in &f.fields {
            let _ = writeln!(
                s,
                "    {}: expected {}, got {}",
                d.field, d.expected, d.actual
            );
        }
        let _ = writeln!(s, "    seed: {}", r.seed);
    }
    s
}

/// The final line of every run.
pub fn summary_line(passed: usize, failed: usize) -> String {
    format!("{passed} passed, {failed} failed")
}

/// Escapes a string for JSON.
pub fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// JSON Lines: one object per scenario (`"type": "scenario"`), one per unreadable file
/// (`"type": "error"`), then one summary object (`"type": "summary"`, passed, failed).
pub fn json(results: &[Timed], errors: &[String]) -> String {
    let mut o = String::new();
    for t in results {
        let r = &t.result;
        let _ = write!(
            o,
            "{{\"type\": \"scenario\", \"file\": {}, \"name\": {}, \"passed\": {}, \"steps\": {}, \"seed\": {}, \"micros\": {}",
            json_str(&r.file),
            json_str(&r.name),
            r.passed(),
            r.steps,
            r.seed,
            t.micros
        );
        if let Some(f) = &r.failure {
            let _ = write!(
                o,
                ", \"failure\": {{\"step\": {}, \"line\": {}, \"thread\": {}, \"call\": {}, \"reason\": {}, \"fields\": [",
                f.step,
                f.line,
                json_str(&f.thread),
                json_str(&f.call),
                json_str(&f.reason)
            );
            for (j, d) in f.fields.iter().enumerate() {
                if j > 0 {
                    o.push_str(", ");
                }
                let _ = write!(
                    o,
                    "{{\"field\": {}, \"expected\": {}, \"actual\": {}}}",
                    json_str(d.field),
                    json_str(&d.expected),
                    json_str(&d.actual)
                );
            }
            o.push_str("]}");
        }
        o.push_str("}\n");
    }
    for e in errors {
        let _ = writeln!(o, "{{\"type\": \"error\", \"message\": {}}}", json_str(e));
    }
    let passed = results.iter().filter(|t| t.result.passed()).count();
    let _ = writeln!(
        o,
        "{{\"type\": \"summary\", \"passed\": {passed}, \"failed\": {}}}",
        results.len() - passed + errors.len()
    );
    o
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JUnit XML document, one testcase per scenario, one error per unreadable file.
pub fn junit(results: &[Timed], errors: &[String]) -> String {
    let failed = results.iter().filter(|t| !t.result.passed()).count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuite name=\"wsasim\" tests=\"{}\" failures=\"{failed}\" errors=\"{}\">",
        results.len() + errors.len(),
        errors.len()
    );
    for t in results {
        let r = &t.result;
        let _ = write!(
            o,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.6}\"",
            xml(&r.file),
            xml(&r.name),
            t.micros as f64 / 1e6
        );
        match &r.failure {
            None => o.push_str("/>\n"),
            Some(f) => {
                let _ = writeln!(
                    o,
                    ">\n    <failure message=\"step {}: {}\">{}</failure>\n  </testcase>",
                    f.step,
                    xml(&f.reason),
                    xml(&human_failure(r))
                );
            }
        }
    }
    for e in errors {
        let _ = writeln!(
            o,
            "  <testcase classname=\"unreadable\" name=\"{}\">\n    <error message=\"{}\"/>\n  </testcase>",
            xml(e.split(':').next().unwrap_or("")),
            xml(e)
        );
    }
    o.push_str("</testsuite>\n");
    o
}
