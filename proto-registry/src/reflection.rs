//! Pull descriptors from a live gRPC server by server reflection (v1, falling back to v1alpha).

mod wire;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use prost_reflect::DescriptorPool;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::builtin::builtin_pool;
use crate::descriptor_set::{RawFile, link};
use crate::error::{SchemaError, describe_descriptor_error};
use wire::{Answer, Ask, Stream, Version};

/// A server with more files than this is more likely broken or hostile than real.
const MAX_FILES: usize = 10_000;
/// The same, for the sum of all descriptor bytes received in one pull.
const MAX_TOTAL_BYTES: usize = 256 * 1024 * 1024;

/// Pull descriptors from a live gRPC server by server reflection: grpc.reflection.v1 first, and if that
/// answers UNIMPLEMENTED (Python grpcio serves only v1alpha), grpc.reflection.v1alpha.
///
/// `services` empty means every service the server lists except grpc.reflection.* and grpc.health.*.
/// Each service's file (file_containing_symbol) and all its transitive dependencies (file_by_filename for
/// any not yet received) come over one bidirectional stream. A dependency the server cannot provide but
/// which is built in (google/api, google/rpc, well-known types) is taken from [`builtin_pool`].
/// `timeout` bounds the whole pull, connecting included; at most 10 000 files are accepted.
pub async fn fetch_by_reflection(
    channel: Channel,
    services: &[String],
    timeout: Duration,
) -> Result<DescriptorPool, SchemaError> {
    match tokio::time::timeout(timeout, fetch(channel, services)).await {
        Ok(result) => result,
        Err(_) => Err(SchemaError::Timeout(timeout)),
    }
}

async fn fetch(channel: Channel, services: &[String]) -> Result<DescriptorPool, SchemaError> {
    let unimplemented = match pull(Version::V1, channel.clone(), services).await {
        Err(Failure::Unimplemented(status)) => status,
        Err(Failure::Schema(err)) => return Err(err),
        Ok(pool) => return Ok(pool),
    };
    tracing::debug!(
        status = %describe(&unimplemented),
        "no grpc.reflection.v1; trying v1alpha"
    );
    match pull(Version::V1Alpha, channel, services).await {
        Err(Failure::Unimplemented(status)) => Err(SchemaError::reflection(format!(
            "server implements neither grpc.reflection.v1 nor v1alpha ({})",
            describe(&status)
        ))),
        Err(Failure::Schema(err)) => Err(err),
        Ok(pool) => Ok(pool),
    }
}

enum Failure {
    /// The server does not speak this protocol version; the caller may try another.
    Unimplemented(Status),
    Schema(SchemaError),
}

impl From<SchemaError> for Failure {
    fn from(err: SchemaError) -> Self {
        Failure::Schema(err)
    }
}

/// One whole pull over one stream in one protocol version.
async fn pull(
    version: Version,
    channel: Channel,
    services: &[String],
) -> Result<DescriptorPool, Failure> {
    let first = match services.first() {
        Some(service) => Ask::FileContainingSymbol(service.clone()),
        None => Ask::ListServices,
    };
    // Only a failure before the first answer says the version is wrong; later ones are real errors.
    let opening = async {
        let mut stream = Stream::open(version, channel, first).await?;
        let answer = stream.answer().await?;
        Ok::<_, Status>((stream, answer))
    };
    let (stream, first_answer) = match opening.await {
        Ok(opened) => opened,
        Err(status) if status.code() == Code::Unimplemented => {
            return Err(Failure::Unimplemented(status));
        }
        Err(status) => {
            return Err(match services.first() {
                Some(service) => SchemaError::reflection_service(service, describe(&status)),
                None => SchemaError::reflection(format!("list services: {}", describe(&status))),
            }
            .into());
        }
    };

    let mut session = Session::new(stream);
    let (services, mut pending) = if services.is_empty() {
        (listed_services(first_answer)?, None)
    } else {
        (dedup(services), Some(first_answer))
    };
    for service in &services {
        session.fetch_service(service, pending.take()).await?;
    }
    session.fetch_dependencies().await?;
    tracing::debug!(
        ?version,
        services = services.len(),
        files = session.files.len(),
        "reflection pull complete"
    );
    session.link().map_err(Failure::from)
}

/// Services to describe when the caller named none: all the server lists, minus reflection and health,
/// which are plumbing rather than API.
fn listed_services(answer: Answer) -> Result<Vec<String>, SchemaError> {
    let names = match answer {
        Answer::Services(names) => names,
        Answer::Error(message) => {
            return Err(SchemaError::reflection(format!("list services: {message}")));
        }
        _ => {
            return Err(SchemaError::reflection(
                "unexpected answer to list services",
            ));
        }
    };
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| !name.starts_with("grpc.reflection.") && !name.starts_with("grpc.health."))
        .collect();
    if names.is_empty() {
        return Err(SchemaError::reflection(
            "server lists no services besides reflection and health",
        ));
    }
    Ok(dedup(&names))
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    names
        .iter()
        .filter(|name| seen.insert(name.as_str()))
        .cloned()
        .collect()
}

/// The state of one pull: what has arrived, and who needed it (to name the service in errors).
struct Session {
    /// `None` once the server has ended the stream; tonic's server does that on any error.
    stream: Option<Stream>,
    files: HashMap<String, RawFile>,
    total_bytes: usize,
    needed_by: HashMap<String, String>,
}

impl Session {
    fn new(stream: Stream) -> Self {
        Session {
            stream: Some(stream),
            files: HashMap::new(),
            total_bytes: 0,
            needed_by: HashMap::new(),
        }
    }

    /// Sends one ask; a transport-level error ends the stream for good.
    async fn ask(&mut self, ask: Ask) -> Result<Answer, Status> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(Status::unavailable("reflection stream already closed"));
        };
        let answer = stream.ask(ask).await;
        if answer.is_err() {
            self.stream = None;
        }
        answer
    }

    /// Gets the file defining `service` (plus whatever dependencies the server volunteers). `answered` is
    /// the reply to an ask already sent for it, when the stream was opened with that ask.
    async fn fetch_service(
        &mut self,
        service: &str,
        answered: Option<Answer>,
    ) -> Result<(), SchemaError> {
        if self.defines(service) {
            return Ok(());
        }
        let answer = match answered {
            Some(answer) => answer,
            None => self
                .ask(Ask::FileContainingSymbol(service.to_owned()))
                .await
                .map_err(|status| SchemaError::reflection_service(service, describe(&status)))?,
        };
        match answer {
            Answer::Files(files) => self.receive(files, service)?,
            Answer::Error(message) => {
                return Err(SchemaError::reflection_service(service, message));
            }
            _ => {
                return Err(SchemaError::reflection_service(
                    service,
                    "unexpected answer to file_containing_symbol",
                ));
            }
        }
        if !self.defines(service) {
            return Err(SchemaError::reflection_service(
                service,
                "the server's answer does not define it",
            ));
        }
        Ok(())
    }

    /// Asks for each missing dependency by name until none is missing. Server files come first and
    /// built-in ones last: if the server lacks a built-in (and, like tonic, ends the stream over it), ours
    /// stand in and nothing that still needs the stream is lost.
    async fn fetch_dependencies(&mut self) -> Result<(), SchemaError> {
        let mut asked = HashSet::new();
        let mut builtin_stand_ins = HashSet::new();
        loop {
            let mut missing: Vec<String> = self
                .files
                .values()
                .flat_map(|file| file.dependencies.iter())
                .filter(|dep| !self.files.contains_key(*dep) && !builtin_stand_ins.contains(*dep))
                .cloned()
                .collect();
            missing.sort_by_key(|name| (is_builtin(name), name.clone()));
            let Some(name) = missing.into_iter().next() else {
                return Ok(());
            };
            let service = self.needed_by.get(&name).cloned().unwrap_or_default();
            if !asked.insert(name.clone()) {
                return Err(SchemaError::reflection_service(
                    &service,
                    format!("server answered file_by_filename({name}) without that file"),
                ));
            }
            let refused = match self.ask(Ask::FileByFilename(name.clone())).await {
                Ok(Answer::Files(files)) => {
                    self.receive(files, &service)?;
                    continue;
                }
                Ok(Answer::Error(message)) => message,
                Ok(_) => "unexpected answer to file_by_filename".to_owned(),
                Err(status) => describe(&status),
            };
            if !is_builtin(&name) {
                return Err(SchemaError::reflection_service(
                    &service,
                    format!("dependency {name}: {refused}"),
                ));
            }
            tracing::debug!(file = %name, %refused, "server lacks a built-in file; using ours");
            builtin_stand_ins.insert(name);
        }
    }

    fn receive(&mut self, files: Vec<Vec<u8>>, service: &str) -> Result<(), SchemaError> {
        for bytes in files {
            self.total_bytes += bytes.len();
            let file = RawFile::decode(bytes).map_err(|err| {
                SchemaError::reflection_service(service, format!("undecodable descriptor: {err}"))
            })?;
            // Servers may resend files they already sent; the first copy stands.
            if self.files.contains_key(&file.name) {
                continue;
            }
            for dep in &file.dependencies {
                self.needed_by
                    .entry(dep.clone())
                    .or_insert_with(|| service.to_owned());
            }
            self.files.insert(file.name.clone(), file);
        }
        if self.files.len() > MAX_FILES || self.total_bytes > MAX_TOTAL_BYTES {
            return Err(SchemaError::reflection(format!(
                "server sent more than the limit of {MAX_FILES} files or {} MiB",
                MAX_TOTAL_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }

    fn defines(&self, service: &str) -> bool {
        self.files
            .values()
            .any(|file| file.services.iter().any(|s| s == service))
    }

    fn link(self) -> Result<DescriptorPool, SchemaError> {
        link(self.files.into_values().collect()).map_err(|err| {
            SchemaError::reflection(format!(
                "descriptors do not link: {}",
                describe_descriptor_error(&err)
            ))
        })
    }
}

fn is_builtin(name: &str) -> bool {
    builtin_pool().get_file_by_name(name).is_some()
}

/// `Status`'s own Display dumps metadata and details; a log line wants the code, the message and, for
/// transport failures, the underlying cause.
fn describe(status: &Status) -> String {
    let mut text = format!("{:?}: {}", status.code(), status.message());
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
