//! `SchemaError`: every way turning bytes into descriptors can fail, each one line naming the file or service.

use std::fmt::Display;
use std::time::Duration;

use prost_reflect::DescriptorError;

/// Errors say which file/service and what went wrong, in one line fit for a log or an HTTP 4xx message.
///
/// `Compile`, `NoFiles` and `DescriptorSet` are the caller's fault (bad input); the `Reflection*` variants
/// and `Timeout` are the upstream server's (or the network's).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A .proto file did not parse or type-check, or a file or import could not be found.
    #[error("{file}{}: {message}", position(*line, *column))]
    Compile {
        /// The file at fault (for a missing import: the file that imports it).
        file: String,
        /// 1-based, when the compiler knows where in the file.
        line: Option<usize>,
        /// 1-based, when the compiler knows where in the file.
        column: Option<usize>,
        message: String,
    },
    /// A compile was asked for with an empty list of files.
    #[error("no .proto files given to compile")]
    NoFiles,
    /// Bytes that are not a usable binary FileDescriptorSet.
    #[error("descriptor set: {message}")]
    DescriptorSet { message: String },
    /// The reflection server could not describe one service (or a file that service depends on).
    #[error("reflection: service {service}: {message}")]
    ReflectionService { service: String, message: String },
    /// The reflection pull failed as a whole: connection, protocol, or a limit.
    #[error("reflection: {message}")]
    Reflection { message: String },
    /// The reflection pull did not finish within the caller's time limit.
    #[error("reflection: no complete answer within {} ms", .0.as_millis())]
    Timeout(Duration),
}

impl SchemaError {
    pub(crate) fn compile(file: impl Into<String>, message: impl Display) -> Self {
        SchemaError::Compile {
            file: file.into(),
            line: None,
            column: None,
            message: one_line(message),
        }
    }

    pub(crate) fn descriptor_set(message: impl Display) -> Self {
        SchemaError::DescriptorSet {
            message: one_line(message),
        }
    }

    pub(crate) fn reflection(message: impl Display) -> Self {
        SchemaError::Reflection {
            message: one_line(message),
        }
    }

    pub(crate) fn reflection_service(service: &str, message: impl Display) -> Self {
        SchemaError::ReflectionService {
            service: service.to_owned(),
            message: one_line(message),
        }
    }
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

/// Messages from compilers and servers may span lines; a log line or an HTTP error body should not.
pub(crate) fn one_line(message: impl Display) -> String {
    message
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// prost-reflect's linking errors do not always say which file they are about; put it in front.
pub(crate) fn describe_descriptor_error(err: &DescriptorError) -> String {
    match (err.file(), err.line()) {
        (Some(file), Some(line)) => format!("{file}:{}: {err}", line + 1),
        (Some(file), None) => format!("{file}: {err}"),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_error_renders_file_and_position_on_one_line() {
        let err = SchemaError::Compile {
            file: "shop.proto".into(),
            line: Some(3),
            column: Some(7),
            message: one_line("expected ';'\n  but found '}'"),
        };
        assert_eq!(
            err.to_string(),
            "shop.proto:3:7: expected ';' but found '}'"
        );
        assert_eq!(
            SchemaError::compile("a.proto", "gone").to_string(),
            "a.proto: gone"
        );
    }

    #[test]
    fn reflection_errors_name_the_service() {
        let err = SchemaError::reflection_service("shop.v1.Shop", "symbol not found");
        assert_eq!(
            err.to_string(),
            "reflection: service shop.v1.Shop: symbol not found"
        );
        assert_eq!(
            SchemaError::Timeout(Duration::from_millis(1500)).to_string(),
            "reflection: no complete answer within 1500 ms"
        );
    }
}
