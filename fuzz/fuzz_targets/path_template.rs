//! Path templates as an operator writes them, and request paths as a client sends them: the first
//! line is parsed as a template (with a second template on the next line, to exercise conflicts), the
//! rest is looked up as a path with and without a custom verb. Nothing may panic, and a matched route
//! yields one value per template variable.
#![no_main]

use gateway_web::access::{Lookup, PathTemplate, RouteTableBuilder};
use http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let (Some(first), Some(second), Some(path)) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    let mut builder = RouteTableBuilder::new();
    for line in [first, second] {
        if let Ok(template) = PathTemplate::parse(line) {
            let _ = template.raw_values(path);
            let _ = template.to_string();
            let variables = template.variables().len();
            let _ = builder.add(None, Method::GET, template, variables);
        }
    }
    let table = builder.build();
    for path in [path, &format!("{path}:verb")] {
        if let Lookup::Found { target, values } = table.lookup(None, &Method::GET, path) {
            assert_eq!(values.len(), *target, "one value per variable of {path}");
        }
        let _ = table.lookup(Some("example.com"), &Method::POST, path);
    }
});
