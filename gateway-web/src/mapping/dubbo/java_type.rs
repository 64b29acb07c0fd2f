//! Java parameter types as an API declares them (`long`, `java.util.List<java.lang.Long>`, `int[]`,
//! `com.acme.User`), parsed once when the API is built.

use std::fmt;

/// A Java type the gateway knows how to fill from JSON or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JavaType {
    Boolean {
        primitive: bool,
    },
    Byte {
        primitive: bool,
    },
    Short {
        primitive: bool,
    },
    Int {
        primitive: bool,
    },
    Long {
        primitive: bool,
    },
    Float {
        primitive: bool,
    },
    Double {
        primitive: bool,
    },
    Char {
        primitive: bool,
    },
    String,
    BigDecimal,
    Date,
    LocalDate,
    LocalDateTime,
    /// `byte[]`: base64 in JSON.
    Bytes,
    Array(Box<JavaType>),
    /// `java.util.List`, `Set`, `Collection` and their implementations; the item type when declared.
    List {
        erased: String,
        item: Option<Box<JavaType>>,
    },
    Map {
        erased: String,
        key: Option<Box<JavaType>>,
        value: Option<Box<JavaType>>,
    },
    /// `java.lang.Object`: the JSON value's natural form.
    Object,
    Enum(String),
    /// Any other class: a POJO, from a JSON object.
    Pojo(String),
}

impl JavaType {
    /// Parses a declared type. `is_enum` marks a class name as an enum.
    pub fn parse(text: &str, is_enum: bool) -> Result<JavaType, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_suffix("[]") {
            let item = JavaType::parse(inner, is_enum)?;
            return Ok(match item {
                JavaType::Byte { primitive: true } => JavaType::Bytes,
                item => JavaType::Array(Box::new(item)),
            });
        }
        let (raw, args) = match text.find('<') {
            Some(open) => {
                let inner = text[open + 1..]
                    .strip_suffix('>')
                    .ok_or_else(|| format!("unbalanced `<>` in type `{text}`"))?;
                (text[..open].trim(), split_args(inner)?)
            }
            None => (text, Vec::new()),
        };
        if raw.is_empty() || !raw.split('.').all(is_identifier) {
            return Err(format!("`{text}` is not a Java type"));
        }
        let parse_arg = |index: usize| -> Result<Option<Box<JavaType>>, String> {
            args.get(index)
                .map(|arg| JavaType::parse(arg, false).map(Box::new))
                .transpose()
        };
        let simple = |t: JavaType| {
            if args.is_empty() {
                Ok(t)
            } else {
                Err(format!("`{raw}` takes no type arguments"))
            }
        };
        match raw {
            "boolean" => simple(JavaType::Boolean { primitive: true }),
            "byte" => simple(JavaType::Byte { primitive: true }),
            "short" => simple(JavaType::Short { primitive: true }),
            "int" => simple(JavaType::Int { primitive: true }),
            "long" => simple(JavaType::Long { primitive: true }),
            "float" => simple(JavaType::Float { primitive: true }),
            "double" => simple(JavaType::Double { primitive: true }),
            "char" => simple(JavaType::Char { primitive: true }),
            "java.lang.Boolean" | "Boolean" => simple(JavaType::Boolean { primitive: false }),
            "java.lang.Byte" | "Byte" => simple(JavaType::Byte { primitive: false }),
            "java.lang.Short" | "Short" => simple(JavaType::Short { primitive: false }),
            "java.lang.Integer" | "Integer" => simple(JavaType::Int { primitive: false }),
            "java.lang.Long" | "Long" => simple(JavaType::Long { primitive: false }),
            "java.lang.Float" | "Float" => simple(JavaType::Float { primitive: false }),
            "java.lang.Double" | "Double" => simple(JavaType::Double { primitive: false }),
            "java.lang.Character" | "Character" => simple(JavaType::Char { primitive: false }),
            "java.lang.String" | "String" => simple(JavaType::String),
            "java.math.BigDecimal" | "BigDecimal" => simple(JavaType::BigDecimal),
            "java.util.Date" | "Date" => simple(JavaType::Date),
            "java.time.LocalDate" | "LocalDate" => simple(JavaType::LocalDate),
            "java.time.LocalDateTime" | "LocalDateTime" => simple(JavaType::LocalDateTime),
            "java.lang.Object" | "Object" => simple(JavaType::Object),
            "java.util.List"
            | "java.util.ArrayList"
            | "java.util.LinkedList"
            | "java.util.Collection"
            | "java.util.Set"
            | "java.util.HashSet"
            | "java.util.LinkedHashSet"
            | "List"
            | "Set"
            | "Collection" => {
                if args.len() > 1 {
                    return Err(format!("`{raw}` takes one type argument"));
                }
                Ok(JavaType::List {
                    erased: qualify(raw),
                    item: parse_arg(0)?,
                })
            }
            "java.util.Map"
            | "java.util.HashMap"
            | "java.util.LinkedHashMap"
            | "java.util.TreeMap"
            | "Map" => {
                if !(args.is_empty() || args.len() == 2) {
                    return Err(format!("`{raw}` takes two type arguments"));
                }
                Ok(JavaType::Map {
                    erased: qualify(raw),
                    key: parse_arg(0)?,
                    value: parse_arg(1)?,
                })
            }
            class if !args.is_empty() => Err(format!(
                "generic class `{class}` is not supported; declare it without <>"
            )),
            class if is_enum => Ok(JavaType::Enum(class.to_string())),
            class => Ok(JavaType::Pojo(class.to_string())),
        }
    }

    /// Whether `null` cannot stand for this type (a Java primitive).
    pub fn is_primitive(&self) -> bool {
        matches!(
            self,
            JavaType::Boolean { primitive: true }
                | JavaType::Byte { primitive: true }
                | JavaType::Short { primitive: true }
                | JavaType::Int { primitive: true }
                | JavaType::Long { primitive: true }
                | JavaType::Float { primitive: true }
                | JavaType::Double { primitive: true }
                | JavaType::Char { primitive: true }
        )
    }

    /// The erased name Dubbo's parameter descriptor is built from (`long`, `java.util.List`, `int[]`).
    pub fn erasure(&self) -> String {
        let name = |primitive: bool, p: &str, boxed: &str| {
            if primitive {
                p.to_string()
            } else {
                boxed.to_string()
            }
        };
        match self {
            JavaType::Boolean { primitive } => name(*primitive, "boolean", "java.lang.Boolean"),
            JavaType::Byte { primitive } => name(*primitive, "byte", "java.lang.Byte"),
            JavaType::Short { primitive } => name(*primitive, "short", "java.lang.Short"),
            JavaType::Int { primitive } => name(*primitive, "int", "java.lang.Integer"),
            JavaType::Long { primitive } => name(*primitive, "long", "java.lang.Long"),
            JavaType::Float { primitive } => name(*primitive, "float", "java.lang.Float"),
            JavaType::Double { primitive } => name(*primitive, "double", "java.lang.Double"),
            JavaType::Char { primitive } => name(*primitive, "char", "java.lang.Character"),
            JavaType::String => "java.lang.String".into(),
            JavaType::BigDecimal => "java.math.BigDecimal".into(),
            JavaType::Date => "java.util.Date".into(),
            JavaType::LocalDate => "java.time.LocalDate".into(),
            JavaType::LocalDateTime => "java.time.LocalDateTime".into(),
            JavaType::Bytes => "byte[]".into(),
            JavaType::Array(item) => format!("{}[]", item.erasure()),
            JavaType::List { erased, .. } | JavaType::Map { erased, .. } => erased.clone(),
            JavaType::Object => "java.lang.Object".into(),
            JavaType::Enum(class) | JavaType::Pojo(class) => class.clone(),
        }
    }

    /// The hessian type of a typed array of this item type (`[int`, `[java.lang.String`).
    pub fn array_type_name(&self) -> String {
        match self {
            JavaType::Boolean { primitive: true } => "[boolean".into(),
            JavaType::Short { primitive: true } => "[short".into(),
            JavaType::Int { primitive: true } => "[int".into(),
            JavaType::Long { primitive: true } => "[long".into(),
            JavaType::Float { primitive: true } => "[float".into(),
            JavaType::Double { primitive: true } => "[double".into(),
            JavaType::Char { primitive: true } => "[char".into(),
            JavaType::Object => "[object".into(),
            JavaType::String => "[string".into(),
            other => format!("[{}", other.erasure()),
        }
    }
}

impl fmt::Display for JavaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.erasure())
    }
}

fn qualify(raw: &str) -> String {
    if raw.contains('.') {
        raw.to_string()
    } else {
        format!("java.util.{raw}")
    }
}

fn is_identifier(part: &str) -> bool {
    let mut chars = part.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// Splits `A, B<C, D>` at top-level commas.
fn split_args(inner: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced `<>` in `{inner}`"))?
            }
            ',' if depth == 0 => {
                args.push(inner[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push(inner[start..].trim().to_string());
    if depth != 0 || args.iter().any(String::is_empty) {
        return Err(format!("malformed type arguments `<{inner}>`"));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_parse_and_erase() {
        let cases = [
            ("long", "long"),
            ("java.lang.Long", "java.lang.Long"),
            ("Integer", "java.lang.Integer"),
            ("byte[]", "byte[]"),
            ("int[]", "int[]"),
            ("java.lang.String[]", "java.lang.String[]"),
            ("java.util.List<java.lang.Long>", "java.util.List"),
            ("List<String>", "java.util.List"),
            (
                "java.util.Map<java.lang.String, java.util.List<java.lang.Long>>",
                "java.util.Map",
            ),
            ("com.acme.User", "com.acme.User"),
            ("com.acme.User[]", "com.acme.User[]"),
        ];
        for (text, erased) in cases {
            assert_eq!(
                JavaType::parse(text, false).expect(text).erasure(),
                erased,
                "{text}"
            );
        }
        assert!(JavaType::parse("long", false).expect("long").is_primitive());
        assert!(
            !JavaType::parse("java.lang.Long", false)
                .expect("Long")
                .is_primitive()
        );
        assert_eq!(
            JavaType::parse("com.acme.Role", true),
            Ok(JavaType::Enum("com.acme.Role".into()))
        );
    }

    #[test]
    fn malformed_types_are_refused() {
        for text in [
            "",
            "java..Long",
            "List<",
            "Map<String>",
            "long<int>",
            "com.acme.Box<T>",
            "1abc",
            "List<>",
        ] {
            assert!(
                JavaType::parse(text, false).is_err(),
                "{text} should be refused"
            );
        }
    }
}
