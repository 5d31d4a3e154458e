//! A service's image: found, pulled with progress, or built from the project and tagged by a
//! content hash, never `latest`: development images by what installs dependencies (shared by
//! every project that installs the same), production images by the whole build context.

use std::collections::HashMap;
use std::time::Instant;

use super::Error;
use super::build::{self, CA_PATH};
use super::docker::{DockerError, Engine, Progress};
use super::project::{ImageSource, LABEL_PROJECT, Mode, Project, Service};
use super::spec::ServiceKind;
use super::up::UpOptions;
use crate::report::{Event, Reporter};

/// Where development images go: one repository for every project, tagged by the hash of what
/// determines the image ([`build::dev_inputs`] and the base images' ids).
pub const DEV_REPOSITORY: &str = "labforge/dev";
/// The label a development image carries: the hash it is tagged with.
pub const LABEL_DEV_HASH: &str = "io.labforge.dev-hash";

/// A service's image, resolved to the daemon's id.
pub struct Image {
    pub reference: String,
    pub id: String,
}

/// Finds or pulls a service's image, or builds the app's image when its content hash is new.
pub async fn resolve_image<E: Engine>(
    engine: &E,
    project: &Project,
    service: &Service,
    opts: &UpOptions,
    report: &dyn Reporter,
) -> Result<Image, Error> {
    match &service.image {
        ImageSource::Pull(reference) => {
            if let Some(id) = engine.image_id(reference).await? {
                return Ok(Image { reference: reference.clone(), id });
            }
            report.emit(Event::PullStarted { image: reference.clone() });
            let started = Instant::now();
            let mut sink = |p: Progress| {
                report.emit(match p {
                    Progress::Layer { id, status, current, total } => {
                        Event::PullLayer { image: reference.clone(), layer: id, status, current, total }
                    }
                    Progress::Line(line) => Event::PullLine { image: reference.clone(), line },
                })
            };
            let pulled = engine.pull(reference, &mut sink).await;
            if let Err(e) = pulled {
                report.emit(Event::PullFinished { image: reference.clone(), seconds: None });
                return Err(cannot_pull(service, reference, &e));
            }
            let found = engine.image_id(reference).await;
            let seconds = found.as_ref().is_ok_and(Option::is_some).then(|| started.elapsed().as_secs_f64());
            report.emit(Event::PullFinished { image: reference.clone(), seconds });
            let id = found?.ok_or_else(|| {
                Error::Docker(DockerError::Call {
                    what: format!("pull {reference}"),
                    reason: "the image is still missing after the pull".into(),
                })
            })?;
            Ok(Image { reference: reference.clone(), id })
        }
        ImageSource::Build { context: dir, dockerfile, args, rebuild_on } => {
            let extra: Vec<(&str, &[u8])> = opts.ca_bundle.as_deref().map(|ca| vec![(CA_PATH, ca)]).unwrap_or_default();
            let packed = build::pack(dir, &extra)?;
            // Development images depend only on what installs dependencies, so a source edit
            // never rebuilds, and every project that installs the same things shares one image;
            // production images depend on the whole context.
            let (reference, labels) = match project.mode {
                Mode::Dev => {
                    let mount = service.binds.iter().find(|b| b.host == *dir).map(|b| b.target.as_str());
                    let (mut parts, bases) = build::dev_inputs(
                        dir,
                        dockerfile,
                        args,
                        rebuild_on,
                        build::DevContainer { mount, command_given: service.command.is_some() },
                        &packed,
                        &extra,
                    );
                    for base in bases {
                        let id = engine.image_id(&base).await?.unwrap_or_default();
                        parts.push((format!("FROM {base}"), id.into_bytes()));
                    }
                    let refs: Vec<&[u8]> = parts.iter().flat_map(|(name, bytes)| [name.as_bytes(), bytes]).collect();
                    let hash = build::digest(&refs);
                    (format!("{DEV_REPOSITORY}:{hash}"), HashMap::from([(LABEL_DEV_HASH.to_string(), hash)]))
                }
                Mode::Prod => {
                    let args_text = serde_json::to_string(args).unwrap_or_default();
                    let hash = build::digest(&[args_text.as_bytes(), &packed.tar]);
                    // One label, the project's (images are shared by its instances): the
                    // classic builder adds a layer per label.
                    let labels = HashMap::from([(LABEL_PROJECT.to_string(), project.name.clone())]);
                    (format!("labforge/{}-{}:{hash}", project.name, service.name), labels)
                }
            };
            if let Some(id) = engine.image_id(&reference).await? {
                return Ok(Image { reference, id });
            }
            report.emit(Event::BuildStarted {
                image: reference.clone(),
                service: service.name.clone(),
                files: packed.files.len(),
            });
            let started = Instant::now();
            let mut sink = |p: Progress| {
                if let Progress::Line(line) = p {
                    report.emit(Event::BuildLine { service: service.name.clone(), line });
                }
            };
            let args: HashMap<String, String> = args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let built = engine.build(packed.tar, &reference, dockerfile, &args, &labels, &mut sink).await;
            let seconds = built.is_ok().then(|| started.elapsed().as_secs_f64());
            report.emit(Event::BuildFinished { image: reference.clone(), service: service.name.clone(), seconds });
            Ok(Image { reference, id: built? })
        }
    }
}

/// A failed pull, with what to do when no registry can be reached (an offline machine, a
/// classroom behind a proxy): use an image this machine has, or load one from a file.
fn cannot_pull(service: &Service, reference: &str, e: &DockerError) -> Error {
    let reason = match e {
        DockerError::Call { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    let instead = match service.kind {
        ServiceKind::Postgres => "set LABFORGE_IMAGE_POSTGRES=IMAGE (or `images.postgres` in labforge's config file)",
        ServiceKind::Mongo => "set LABFORGE_IMAGE_MONGO=IMAGE (or `images.mongo` in labforge's config file)",
        ServiceKind::App => "change the service's `image:` in labforge.yaml",
    };
    Error::Unavailable(format!(
        "cannot pull `{reference}` for `{}` ({}): to use an image this machine has, {instead}; or load one with `docker load -i FILE`",
        service.name,
        crate::base::first_line(reason)
    ))
}
